"""Try it live: how long one photo takes once the model is warm, end to end through the
try-it service (socket, decoding, face finding, prediction, explanation overlay and
encoding), idle and while a `cpu` training job runs, against the 1.5 s target.

    python -m bench.try_latency [--home DIR] [--run-id ID] [--photos 20] [--no-load]

Without --run-id the run tried is the cpu preset's ensemble architecture (EfficientNet-
Lite0 fine-tuned top at 128 px with test-time mirroring, dlib_face, the meta-model) with
untrained weights: how long an answer takes does not depend on the weights. `make bench`
(bench/run.py) measures its own trained ensemble instead. The photos are FG-NET
portraits (every 50th, as the face-detection test samples them). The load is a real
`cpu` training job of EfficientNet-Lite0 on a small UTKFace subset, sent through the
local runner as the dashboard sends it. Results: bench/results/try-latency-<date>-<host>.json
and .md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET_S = 1.5
LOAD_STARTUP_TIMEOUT_S = 900  # until the training job computes (imports, weights, crops)


def portraits(data: Path, n: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of n FG-NET portraits: every 50th in name order, then every 50th
    from an offset of 25, until there are n."""
    paths = sorted((data / "fgnet" / "images").iterdir())
    picked = (paths[::50] + paths[25::50])[:n]
    return [(p.name, p.read_bytes()) for p in picked]


def architecture_run(app, dataset_id: int) -> int:
    """The cpu preset's ensemble (image member, dlib_face, meta-model) with random
    weights, recorded as a finished run on `dataset_id`; its id."""
    import keras

    from backend.ensemble import MetaConfig, build_meta_model, save_ensemble
    from backend.training.config import preset_config, preset_members
    from backend.training.run_folder import build_run_model
    from backend.training.trainer import BEST_WEIGHTS
    from storage import datasets, runs

    scheme = datasets.get_dataset(app.db, dataset_id).class_scheme
    n_classes = len(scheme["labels"])
    keras.utils.set_random_seed(0)
    members = []
    for backbone in preset_members("cpu"):
        config = preset_config("cpu", backbone, weights="none")
        run = runs.create_run(app.db, dataset_id, "train", backbone, status="succeeded",
                              config={**config.to_dict(), "preset": "cpu"})
        folder = app.paths.resolve(run.dir)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(config.to_dict()))
        (folder / "scheme.json").write_text(json.dumps(scheme))
        build_run_model(config, n_classes).save_weights(folder / BEST_WEIGHTS)
        members.append(run)
    ensemble = runs.create_run(app.db, dataset_id, "ensemble", "meta", status="succeeded",
                               members=[m.id for m in members], config={"method": "meta"})
    cfg = MetaConfig()
    save_ensemble(app.paths.resolve(ensemble.dir), members=[f"{m.name}#{m.id}" for m in members],
                  n_classes=n_classes, model=build_meta_model(n_classes * len(members),
                                                              n_classes, cfg), cfg=cfg)
    return ensemble.id


def timed(settings, run_id: int, photos: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """One request per photo, as the page sends them: wall time, faces, the service's
    own time."""
    from worker.interactive import client

    rows = []
    for name, data in photos:
        started = time.perf_counter()
        answer = client.try_photos(settings, run_id, [(name, data)])
        wall = time.perf_counter() - started
        rows.append({"photo": name, "seconds": round(wall, 3),
                     "service_seconds": answer.header["seconds"],
                     "faces": len(answer.photos[0].get("faces", [])), "warm": answer.header["warm"]})
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, p95 (nearest rank) and max of the wall times, and the verdict."""
    times = sorted(r["seconds"] for r in rows)
    p95 = times[max(0, -(-95 * len(times) // 100) - 1)]
    one_face = sorted(r["seconds"] for r in rows if r["faces"] == 1)
    return {"n": len(times), "median_s": round(statistics.median(times), 3),
            "p95_s": round(p95, 3), "max_s": round(times[-1], 3),
            "one_face_median_s": round(statistics.median(one_face), 3) if one_face else None,
            "faces_found": sum(r["faces"] > 0 for r in rows), "target_s": TARGET_S,
            "met": p95 <= TARGET_S, "load_average": os.getloadavg()}


def start_load(app, dataset_id: int) -> tuple[int, float]:
    """Submit a cpu training job through the local runner; wait until it computes.
    (job id, seconds it took to start computing)."""
    from storage import jobs
    from worker import job_control

    job = job_control.submit(app, "train", {"dataset_id": dataset_id,
                                            "backbone": "efficientnet_lite0", "preset": "cpu"})
    started = time.monotonic()
    while time.monotonic() - started < LOAD_STARTUP_TIMEOUT_S:
        row = jobs.get_job(app.db, job.id)
        if row.finished:
            raise RuntimeError(f"the load job {job.id} ended before the measurement: "
                               f"{row.status} {row.error or ''}")
        if row.status == "running" and (row.progress or {}).get("current"):
            return job.id, time.monotonic() - started
        time.sleep(1.0)
    raise RuntimeError(f"the load job {job.id} did not start computing within "
                       f"{LOAD_STARTUP_TIMEOUT_S} s")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure(app, run_id: int, photos: list[tuple[str, bytes]], *, load_dataset: int | None,
            progress=print) -> dict[str, Any]:
    """Warm the service on `run_id`, then time the photos idle and, with a load dataset,
    under a cpu training job (cancelled afterwards)."""
    from worker import job_control
    from worker.interactive import client
    from worker.local_runner import runner_pid, stop_local_runner

    settings = app.settings
    t = time.perf_counter()
    client.ensure_service(settings)
    client.try_photos(settings, run_id, photos[:1])  # loads TensorFlow and the run
    out: dict[str, Any] = {"run_id": run_id, "warm_up_s": round(time.perf_counter() - t, 1)}
    progress(f"warm after {out['warm_up_s']} s; idle")
    out["idle_rows"] = timed(settings, run_id, photos)
    out["idle"] = summary(out["idle_rows"])
    progress(f"idle: {out['idle']}")
    if load_dataset is not None:
        job_id, out["load_start_s"] = start_load(app, load_dataset)
        pid = runner_pid(settings)
        progress(f"load job {job_id} computing after {out['load_start_s']:.0f} s (runner {pid})")
        before, t = cpu_seconds(pid), time.perf_counter()
        out["load_rows"] = timed(settings, run_id, photos)
        out["load_cpu_share"] = round((cpu_seconds(pid) - before) / (time.perf_counter() - t)
                                      / (os.cpu_count() or 1), 2)
        out["under_load"] = summary(out["load_rows"])
        progress(f"under load: {out['under_load']} (the job used "
                 f"{100 * out['load_cpu_share']:.0f}% of the CPUs)")
        job_control.cancel(app, job_id)
        stop_local_runner(settings, wait=60)
    client.stop_service(settings)
    return out


def render(result: dict[str, Any]) -> str:
    """Markdown: one row per condition against the target."""
    lines = ["| try it live, one photo (warm) | median | p95 | max | faces found | target | met |",
             "|---|---|---|---|---|---|---|"]
    for key, name in (("idle", "idle"), ("under_load", "while a `cpu` training job runs")):
        s = result.get(key)
        if s:
            lines.append(f"| {name} | {s['median_s']:.2f} s | {s['p95_s']:.2f} s | "
                         f"{s['max_s']:.2f} s | {s['faces_found']}/{s['n']} | "
                         f"≤ {s['target_s']:.1f} s | {'yes' if s['met'] else '**no**'} |")
    notes = []
    if result.get("architecture_only"):
        notes.append("the cpu preset's ensemble architecture with untrained weights (an "
                     "answer's time does not depend on the weights)")
    if result.get("idle"):
        notes.append(f"a load average of {result['idle']['load_average'][0]:.1f} on the "
                     f"{result.get('cpus', '?')} CPUs during the idle run (other processes "
                     "shared the machine)")
    if result.get("load_cpu_share") is not None:
        notes.append(f"the training job (niceness 10) used {100 * result['load_cpu_share']:.0f}% "
                     "of the CPUs meanwhile")
    return "\n".join(lines) + ("\n\nMeasured with " + "; ".join(notes) + "." if notes else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.try_latency")
    parser.add_argument("--home", help="AGEREC_HOME to use (default: a new temporary one)")
    parser.add_argument("--run-id", type=int, help="a finished run of --home to try")
    parser.add_argument("--data", default=None, help="the shared data folder")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--no-load", action="store_true", help="measure idle only")
    args = parser.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="agerec-try-bench-")).resolve()
    os.environ["AGEREC_HOME"] = str(home)
    os.environ.pop("AGEREC_DATABASE_URL", None)
    os.environ.pop("AGEREC_BROKER_URL", None)
    from worker.console import configure_logging
    from worker.context import AppContext
    from worker.stages.preprocess import run_preprocess
    from worker.stages.stage_context import StageContext

    configure_logging()
    app = AppContext()
    data = Path(args.data) if args.data else app.settings.shared_data
    if not (data / "fgnet" / "images").is_dir() or not (data / "utkface").is_dir():
        print(f"bench: FG-NET and UTKFace not found under {data} (pass --data)", file=sys.stderr)
        return 2
    # A small UTKFace dataset: what the load job trains on (and the run's crop settings).
    prep = run_preprocess(StageContext(app=app), {"source": "utkface", "path": str(data / "utkface"),
                                                  "detector": "none", "limit": 600, "seed": 0})
    run_id = args.run_id or architecture_run(app, prep["dataset_id"])
    result = {"date": dt.datetime.now(dt.timezone.utc).isoformat(), "host": socket.gethostname(),
              "cpus": os.cpu_count(), "architecture_only": args.run_id is None,
              **measure(app, run_id, portraits(data, args.photos),
                        load_dataset=None if args.no_load else prep["dataset_id"])}
    stem = f"try-latency-{dt.date.today().isoformat()}-{socket.gethostname()}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2))
    (RESULTS / f"{stem}.md").write_text(render(result) + "\n")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
