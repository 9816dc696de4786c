"""How long each dashboard page takes to run with 200 runs in the database.

Seeds a temporary AGEREC_HOME through the storage API (a dataset, 200 runs with test
metrics, the first three with history.json and predictions.csv, a GradCAM gallery and
a few jobs), then runs every page with streamlit's AppTest: once cold (empty caches)
and `--repeats` times warm, and prints one row per page.

This times the Python side of a page run (queries, pandas, Plotly figure building),
which is what caching and paging control. What a browser adds (network, Plotly
rendering, images) is measured later by the end-to-end browser test.

Run from the repository root, project venv active:
  python bench/dashboard_speed.py [--runs 200] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = ("results", "compare", "gallery", "present", "jobs", "launch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs to seed")
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per page")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="agerec-dashboard-speed-") as tmp:
        return measure(Path(tmp), args.runs, args.repeats)


def measure(home: Path, runs: int, repeats: int) -> int:
    os.environ.update(AGEREC_HOME=str(home), AGEREC_DASHBOARD_DISPATCH="0")
    for name in ("AGEREC_DATABASE_URL", "AGEREC_BROKER_URL", "AGEREC_READ_ONLY"):
        os.environ.pop(name, None)

    from streamlit.testing.v1 import AppTest

    from tests.dashboard.seed import seed_home

    start = time.perf_counter()
    seed_home(home, n_runs=runs)
    print(f"seeded {runs} runs into {home} in {time.perf_counter() - start:.1f} s\n")

    print(f"{'page':10s} {'cold s':>8s} {'warm s (median)':>16s} {'warm s (max)':>13s}")
    for page in PAGES:
        times = []
        for _ in range(1 + repeats):
            at = AppTest.from_file(str(REPO / "dashboard" / "views" / f"{page}.py"),
                                   default_timeout=600)
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
            if at.exception:
                print(f"{page}: exception {at.exception[0].value}", file=sys.stderr)
                return 1
        warm = times[1:] or times
        print(f"{page:10s} {times[0]:8.2f} {statistics.median(warm):16.2f} {max(warm):13.2f}")
    print("\ncold = first run in this process (empty st.cache_data); Launch's cold run "
          "includes reading the backend's registries (in a child process for any that "
          "would import TensorFlow).")
    print("Browser timings (rendering, network) come from the later end-to-end test.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
