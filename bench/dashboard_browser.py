"""How long each dashboard page takes to render in a real browser with 200 runs in the
database (target: every page under 2 s).

Seeds a temporary AGEREC_HOME with tests/dashboard/seed.py (a dataset, `--runs` runs with
test metrics, the first three with history.json and predictions.csv, a GradCAM gallery
and a few jobs), starts `agerec dashboard` on a free localhost port (no broker: the local
runner, with nothing to run) and opens every page in Debian's headless chromium.

A page's time runs from `page.goto` until its title shows, its script run is over and its
main content is drawn: every visible Plotly chart has its traces, every visible image
has loaded, every visible table has its canvas, plus what tests/dashboard/browser.py
PAGES expects of the page (Results: the confusion matrix; Gallery: an overlay; ...).
Each page is loaded by its address once cold (its first load) and `--repeats` times
warm (a new Streamlit session each; the data caches live 30 s, so slow loads can find
them expired), then reached `--repeats` times by a click on its sidebar link (no reload,
one session). The target applies to the warm loads by address.

Before timing, "/" is opened once, untimed, so the first timed page does not also pay
for the server's first script run.

Run from the repository root, project venv active (needs /usr/bin/chromium):
  python bench/dashboard_browser.py [--runs 200] [--repeats 5] [--out bench/results]
Prints a table and writes bench/results/dashboard-<date>-<host>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
PAGE_ORDER = ("results", "compare", "gallery", "present", "jobs", "launch")
NAV_LABELS = {"results": "Results", "compare": "Compare", "gallery": "Explanations",
              "present": "Present", "jobs": "Jobs", "launch": "Launch"}  # dashboard/app.py


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs to seed")
    parser.add_argument("--repeats", type=int, default=5, help="warm loads per page")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results",
                        help="folder for dashboard-<date>-<host>.json")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="also save one PNG per page here")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from tests.dashboard import browser

    reason = browser.chromium_missing_reason()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="agerec-dashboard-browser-") as tmp:
        result = measure(Path(tmp), args.runs, args.repeats, args.screenshots)
    print_table(result)
    args.out.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    path = args.out / f"dashboard-{datetime.now(timezone.utc):%Y-%m-%d}-{host}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0 if result["passed"] else 1


def measure(home: Path, runs: int, repeats: int, screenshots: Path | None) -> dict:
    from playwright.sync_api import sync_playwright

    from tests.dashboard import browser
    from tests.dashboard.seed import seed_home

    load_start = round(os.getloadavg()[0], 2)
    start = time.perf_counter()
    seed_home(home, n_runs=runs)
    seed_s = time.perf_counter() - start
    print(f"seeded {runs} runs into {home} in {seed_s:.1f} s", file=sys.stderr)
    shots = browser.Screenshots(screenshots) if screenshots else None
    pages: dict[str, dict] = {}
    with browser.Dashboard(home) as server, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(browser.CHROMIUM),
                                              headless=True, args=browser.CHROMIUM_ARGS)
        version = chromium.version
        tab = chromium.new_page(viewport=browser.VIEWPORT)
        start = time.perf_counter()
        tab.goto(f"{server.url}/")
        browser.wait_rendered(tab, "results", timeout_ms=180_000)
        warmup_s = time.perf_counter() - start
        for name in PAGE_ORDER:
            loads = [load(tab, server.url, name) for _ in range(1 + repeats)]
            times = [drawn for _, drawn in loads]
            errors = browser.page_exceptions(tab)
            if shots is not None:
                shots.take(tab, name)
            warm = times[1:] or times
            pages[name] = {"cold_s": round(times[0], 3),
                           "warm_median_s": round(statistics.median(warm), 3),
                           "warm_max_s": round(max(warm), 3), "warm_s": [round(t, 3) for t in warm],
                           "title_cold_s": round(loads[0][0], 3),
                           "title_warm_median_s": round(
                               statistics.median(t for t, _ in loads[1:] or loads), 3),
                           "exceptions": errors,
                           "passed": statistics.median(warm) < TARGET_S and not errors}
            print(f"  {name}: cold {times[0]:.2f} s, warm median "
                  f"{statistics.median(warm):.2f} s", file=sys.stderr)
        # In-app moves: a click on the sidebar link, no page reload (one session).
        switches: dict[str, list[float]] = {name: [] for name in PAGE_ORDER}
        for _ in range(repeats):
            for name in PAGE_ORDER:
                switches[name].append(switch(tab, name))
        for name, times in switches.items():
            pages[name]["switch_median_s"] = round(statistics.median(times), 3)
            pages[name]["switch_s"] = [round(t, 3) for t in times]
        chromium.close()
    return {"benchmark": "dashboard page render time in headless chromium",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "host": socket.gethostname(), "cpus": os.cpu_count(),
            "load_avg_1m_at_start": load_start, "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "chromium": version,
            "streamlit": _version("streamlit"), "runs_seeded": runs, "repeats": repeats,
            "seed_s": round(seed_s, 2), "first_request_s": round(warmup_s, 3),
            "target_s": TARGET_S,
            "criterion": "warm median under target_s and no Streamlit exception, per page",
            "pages": pages, "passed": all(p["passed"] for p in pages.values())}


def load(tab, url: str, name: str) -> tuple[float, float]:
    """Seconds from navigating to /<name> until its title shows, and until its main
    content is drawn."""
    from tests.dashboard import browser

    tab.goto("about:blank")
    start = time.perf_counter()
    tab.goto(f"{url}/{name}")
    tab.get_by_role("heading", name=browser.PAGES[name]["title"], level=1).wait_for(
        timeout=180_000)
    title = time.perf_counter() - start
    browser.wait_rendered(tab, name, timeout_ms=180_000)
    return title, time.perf_counter() - start


def switch(tab, name: str) -> float:
    """Seconds from clicking /<name>'s sidebar link until its main content is drawn."""
    import re

    from tests.dashboard import browser

    link = tab.get_by_test_id("stSidebarNav").get_by_role(
        "link", name=re.compile(re.escape(NAV_LABELS[name]) + "$"))
    start = time.perf_counter()
    link.click()
    browser.wait_rendered(tab, name, timeout_ms=180_000)
    return time.perf_counter() - start


def print_table(result: dict) -> None:
    print(f"\n{result['runs_seeded']} runs, chromium {result['chromium']}, "
          f"{result['cpus']} CPUs, load {result['load_avg_1m_at_start']} -> "
          f"{result['load_avg_1m_at_end']}; target: warm median "
          f"< {result['target_s']:.0f} s")
    print(f"first request (/, untimed warm-up of the server): {result['first_request_s']:.2f} s\n")
    print(f"{'page':10s} {'cold s':>8s} {'warm median s':>14s} {'warm max s':>11s} "
          f"{'title warm s':>13s} {'switch s':>9s}  ok")
    for name, p in result["pages"].items():
        print(f"{name:10s} {p['cold_s']:8.2f} {p['warm_median_s']:14.2f} {p['warm_max_s']:11.2f} "
              f"{p['title_warm_median_s']:13.2f} {p['switch_median_s']:9.2f}  "
              f"{'yes' if p['passed'] else 'NO'}")
    print("\ncold: the page's first load by address; warm: the next loads (each a new "
          "session); title: until its st.title shows, the others until its main content is "
          "drawn; switch: median of clicks on its sidebar link (no reload). ok: warm median "
          "under the target and no exception.")


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
