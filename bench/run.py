"""The whole comparison from one command: prepare the shared UTKFace data, train the
preset's members, ensemble and evaluate them (balanced test split and a natural-
distribution test set, as trained and corrected to the source's class mix), build the
pipeline up step by step (bench/ablation.py: ablation rows, FG-NET, reruns), score
ready-made age models on the same natural set, measure speed against plain baselines
and the dashboard's page render times in headless chromium, time the Try it page's
answers (bench/try_latency.py), and write JSON + a
Markdown table the README includes.

    python -m bench.run [--preset cpu] [--limit N] [--skip-speed] [--skip-ready-made]
                        [--skip-dashboard] [--skip-ablation] [--trials 20]

Results go to bench/results/<date>-<host>.json and .md, and bench/results/latest.md.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from bench.trust import ece_cell, gap_cell, trust_table

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")
# Issue 11's targets (the best member's is an earlier issue's): (goal, "min" or "max").
TARGETS = {"ensemble_natural_accuracy_prior_source": (0.82, "min"),
           "ensemble_balanced_accuracy": (0.76, "min"),
           "ensemble_one_off_accuracy": (0.99, "min"),
           "pipeline_minutes": (45.0, "max"),
           "best_member_balanced_accuracy": (0.72, "min")}
# The stages that make the cpu pipeline (preprocess through ensemble).
PIPELINE_STAGES = ("preprocess", "train ", "ensemble ")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    home = Path(args.home).resolve()
    os.environ["AGEREC_HOME"] = str(home)
    os.environ.pop("AGEREC_DATABASE_URL", None)
    data = Path(args.data).resolve()
    if not data.exists():
        print(f"bench: UTKFace data not found at {data} (pass --data)", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    result = run(data, args.preset, home, limit=args.limit, seed=args.seed,
                 speed=not args.skip_speed, ready_made=not args.skip_ready_made,
                 dashboard=not args.skip_dashboard, try_it=not args.skip_try,
                 ablation=not args.skip_ablation, trials=args.trials,
                 skip_fgnet=args.skip_fgnet)
    result["load"] = {"before": load_before, "after": os.getloadavg()[0]}
    stem = f"{dt.date.today().isoformat()}-{socket.gethostname()}"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2, default=str))
    markdown = render(result)
    (RESULTS / f"{stem}.md").write_text(markdown)
    (RESULTS / "latest.md").write_text(markdown)
    if args.update_readme:
        update_readme(markdown)
    print(markdown)
    print(f"results: {RESULTS / (stem + '.json')}", file=sys.stderr)
    return 0


def run(data: Path, preset: str, home: Path, *, limit: int | None, seed: int, speed: bool,
        ready_made: bool, dashboard: bool = True, try_it: bool = True,
        ablation: bool = True, trials: int = 20, skip_fgnet: bool = False) -> dict[str, Any]:
    """Every stage in order, each timed, with a progress bar per stage on stderr."""
    from backend.training.config import preset_members
    from storage import runs
    from worker.console import Console
    from worker.context import AppContext
    from worker.stages.ensemble import run_ensemble
    from worker.stages.preprocess import run_preprocess
    from worker.stages.stage_context import StageContext
    from worker.stages.train import run_train

    console = Console(False)
    app = AppContext()
    ctx = StageContext(app=app, progress=console.progress)
    walls: dict[str, float] = {}
    members = list(preset_members(preset))
    started = time.perf_counter()

    t = time.perf_counter()
    prep = run_preprocess(ctx, {"source": "utkface", "path": str(data), "detector": "none",
                                "limit": limit, "seed": seed})
    walls["preprocess"] = time.perf_counter() - t
    rows: dict[str, dict[str, Any]] = {}
    for backbone in members:
        t = time.perf_counter()
        out = run_train(ctx, {"dataset_id": prep["dataset_id"], "backbone": backbone,
                              "preset": preset, "seed": seed})
        walls[f"train {backbone}"] = time.perf_counter() - t
        rows[backbone] = {"run_id": out["run_id"], "wall_s": walls[f"train {backbone}"]}
    member_ids = [rows[m]["run_id"] for m in members]
    for method in ("meta", "average"):
        t = time.perf_counter()
        out = run_ensemble(ctx, {"runs": member_ids, "method": method, "trials": trials,
                                 "seed": seed})
        walls[f"ensemble {method}"] = time.perf_counter() - t
        rows[f"ensemble ({method})"] = {"run_id": out["run_id"],
                                        "wall_s": walls[f"ensemble {method}"]}
    for name, row in rows.items():
        row["test"] = runs.get_metrics(app.db, row["run_id"], scope="test")

    # The natural test set: faces no member saw, at UTKFace's real class mix.
    t = time.perf_counter()
    natural, natural_items, natural_set = natural_eval(ctx, prep, rows, seed)
    walls["natural evaluation"] = time.perf_counter() - t
    for name, metrics in natural.items():
        rows[name].update(metrics)
    ablation_result = None
    if ablation:
        from bench.ablation import Member, run_ablation

        product = {m: Member(m, runs.get_run(app.db, rows[m]["run_id"]), rows[m]["wall_s"])
                   for m in members}
        product["ensemble"] = Member("ensemble (meta)",
                                     runs.get_run(app.db, rows["ensemble (meta)"]["run_id"]),
                                     rows["ensemble (meta)"]["wall_s"])
        t = time.perf_counter()
        ablation_result = run_ablation(
            ctx, prep, product, natural_set, data_path=str(data), seed=seed, trials=trials,
            limit=limit, fgnet=None if skip_fgnet else str(data.parent / "fgnet" / "images"),
            preset=preset)
        walls["ablation"] = time.perf_counter() - t
    external: dict[str, Any] = {}
    if ready_made:
        from bench.ready_made import READY_MADE, evaluate_ready_made

        for name in READY_MADE:
            t = time.perf_counter()
            external[name] = evaluate_ready_made(name, natural_items, progress=ctx.progress)
            walls[f"ready-made {name}"] = time.perf_counter() - t
    speed_results = None
    if speed:
        from bench import speed as speed_bench

        t = time.perf_counter()
        speed_results = speed_bench.run(quick=False, data_root=data.parent)
        walls["speed"] = time.perf_counter() - t
    dashboard_results = None
    if dashboard:
        t = time.perf_counter()
        dashboard_results = dashboard_speed()
        walls["dashboard speed"] = time.perf_counter() - t
    try_results = None
    if try_it:
        from bench.try_latency import measure, portraits

        t = time.perf_counter()
        # The meta ensemble just trained, while another cpu training job runs.
        try_results = measure(app, rows["ensemble (meta)"]["run_id"],
                              portraits(data.parent, 20), load_dataset=prep["dataset_id"],
                              progress=console.info)
        walls["try it latency"] = time.perf_counter() - t
    return {"date": dt.datetime.now(dt.timezone.utc).isoformat(), "host": socket.gethostname(),
            "cpus": os.cpu_count(), "preset": preset, "try_latency": try_results,
            "members": members, "seed": seed,
            "limit": limit, "dataset": prep, "rows": rows, "ready_made": external,
            "natural_n": len(natural_items), "wall_s": walls,
            "pipeline_wall_s": (pipeline := pipeline_seconds(walls)),
            "total_wall_s": time.perf_counter() - started, "speed": speed_results,
            "dashboard": dashboard_results, "ablation": ablation_result,
            "targets": targets(rows, pipeline)}


def pipeline_seconds(walls: dict[str, float]) -> float:
    """The cpu pipeline's wall time: preprocess, every member's training, the ensembles."""
    return sum(v for k, v in walls.items() if k == "preprocess" or k.startswith(PIPELINE_STAGES))


def dashboard_speed() -> dict[str, Any]:
    """Every dashboard page's render time in headless chromium with 200 runs seeded
    (bench/dashboard_browser.py), or why it could not be measured."""
    import tempfile

    from bench.dashboard_browser import measure
    from tests.dashboard.browser import chromium_missing_reason

    reason = chromium_missing_reason()
    if reason:
        return {"available": False, "reason": reason}
    with tempfile.TemporaryDirectory(prefix="agerec-bench-dashboard-") as tmp:
        return {"available": True, **measure(Path(tmp), runs=200, repeats=5, screenshots=None)}


def natural_eval(ctx, prep: dict[str, Any], rows: dict[str, dict], seed: int):
    """Metrics of every run on the natural test set, as trained ("natural") and corrected
    to the source's class mix ("natural_prior"), its (path, age) items and its
    (crops, labels)."""
    from backend.evaluation.evaluate import evaluate_probs
    from bench.natural import natural_test_set
    from bench.trust import natural_groups
    from storage import runs
    from worker.stages.predictions import predict
    from worker.stages.target_prior import run_target_prior

    app = ctx.app
    # Sampled to UTKFace's real class mix: every parsable face of ages 1-99.
    frame, images, counts = natural_test_set(app.paths.resolve(prep["dir"]), seed)
    labels = frame["label"].to_numpy()
    out, memo = {}, {}
    for i, (name, row) in enumerate(rows.items()):
        ctx.progress(i, len(rows), "natural test set")
        run = runs.get_run(app.db, row["run_id"])
        # Members come first in `rows`: the ensembles reuse their probabilities.
        probs = predict(ctx, run, images, memo=memo)
        prior = run_target_prior(app.db, run, "source", func="bench")
        temperature = runs.get_temperature(app.db, run.id) or 1.0
        out[name] = {"natural": evaluate_probs(labels, probs, len(counts),
                                               groups=natural_groups(frame),
                                               temperature=temperature),
                     "natural_prior": evaluate_probs(labels, prior.apply(probs), len(counts))}
        runs.record_metrics(app.db, run.id, "natural", out[name]["natural"])
        runs.record_metrics(app.db, run.id, prior.scope("natural"), out[name]["natural_prior"])
    ctx.progress(len(rows), len(rows), "natural test set")
    return (out, list(zip(frame["source_path"], frame["age"].astype(int))),
            (images, labels))


def targets(rows: dict[str, dict], pipeline_s: float | None = None) -> dict[str, dict]:
    """Each target of the issue, with our value and whether it was met."""
    members = {k: v for k, v in rows.items() if not k.startswith("ensemble")}
    best = max(members.values(), key=lambda r: r["test"].get("balanced_accuracy") or 0)
    ens = rows["ensemble (meta)"]
    values = {"ensemble_natural_accuracy_prior_source":
                  ens.get("natural_prior", {}).get("accuracy"),
              "ensemble_balanced_accuracy": ens["test"].get("balanced_accuracy"),
              "ensemble_one_off_accuracy": ens["test"].get("one_off_accuracy"),
              "pipeline_minutes": None if pipeline_s is None else pipeline_s / 60,
              "best_member_balanced_accuracy": best["test"].get("balanced_accuracy")}
    out = {}
    for key, value in values.items():
        goal, sense = TARGETS[key]
        met = value is not None and (value >= goal if sense == "min" else value <= goal)
        out[key] = {"target": goal, "value": value, "met": met, "sense": sense}
    return out


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render(result: dict[str, Any]) -> str:
    """The Markdown table: the paper's Table 1 next to ours, then targets and speed."""
    head = ("| model | accuracy | one-off | per-class (1-19 / 20-39 / 40-59 / 60-79 / 80-99) "
            "| balanced acc. | macro-F1 | greyscale acc. | natural-set acc. "
            "| natural, prior source | largest group gap | ECE | wall time |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"Benchmark of {result['date'][:10]} on {result['host']} ({result['cpus']} CPUs), "
             f"preset `{result['preset']}`, members {', '.join(result['members'])}; "
             f"{result['dataset']['n_images']} balanced UTKFace faces, natural test set of "
             f"{result['natural_n']} faces. Pipeline wall time (preprocess through ensemble) "
             f"{result['pipeline_wall_s'] / 60:.1f} min.{_load_sentence(result)}", "", head]
    from dashboard.paper import TABLE1

    for name, paper in TABLE1.items():
        name = f"{name} (paper)"
        per = " / ".join(f"{100 * a:.1f}" for a in paper["per_class_accuracy"])
        lines.append(f"| {name} | {_pct(paper['accuracy'])} | {_pct(paper['one_off_accuracy'])} "
                     f"| {per} | — | — | — | — | — | — | — | — |")
    for name, row in result["rows"].items():
        m, nat = row["test"], row.get("natural", {})
        per = " / ".join("—" if a is None else f"{100 * a:.1f}" for a in m["per_class_accuracy"])
        lines.append(f"| {name} (ours) | {_pct(m['accuracy'])} | {_pct(m['one_off_accuracy'])} "
                     f"| {per} | {_pct(m.get('balanced_accuracy'))} | {m['macro_f1']:.3f} "
                     f"| {_pct(m.get('greyscale_accuracy'))} | {_pct(nat.get('accuracy'))} "
                     f"| {_pct(row.get('natural_prior', {}).get('accuracy'))} "
                     f"| {gap_cell(m)} | {ece_cell(m)} | {row['wall_s'] / 60:.1f} min |")
    for name, ext in result["ready_made"].items():
        if not ext.get("available", True):
            lines.append(f"| {name} (ready-made) | unavailable: {ext.get('reason')} |"
                         " | | | | | | | | | |")
            continue
        # Ready-made rows keep their per-class recall by class label.
        per = " / ".join("—" if a is None else f"{100 * a:.1f}"
                         for a in ext["per_class_accuracy"].values())
        lines.append(f"| {name} (ready-made, {ext['seconds_per_image']:.3f} s/img) | — | — "
                     f"| {per} | — | — | — | {_pct(ext['accuracy'])} (one-off "
                     f"{_pct(ext['one_off_accuracy'])}) | — | — | — | — |")
    lines += ["", "Wall time per stage: " + ", ".join(
        f"{k} {v / 60:.1f} min" for k, v in result["wall_s"].items()), "",
        "| target | ours | goal | met |", "|---|---|---|---|"]
    for key, t in result["targets"].items():
        minutes = t.get("sense") == "max"
        value = ("—" if t["value"] is None else f"{t['value']:.1f} min") if minutes \
            else _pct(t["value"])
        goal = f"≤ {t['target']:.0f} min" if minutes else f"≥ {_pct(t['target'])}"
        lines.append(f"| {key.replace('_', ' ')} | {value} | {goal} "
                     f"| {'yes' if t['met'] else '**no**'} |")
    lines += trust_table(result["rows"])
    if result.get("ablation"):
        from bench.ablation import render as render_ablation

        lines += render_ablation(result["ablation"])
    lines += speed_table(result.get("speed"))
    lines += dashboard_table(result.get("dashboard"))
    if result.get("try_latency"):
        from bench.try_latency import render as try_table

        lines += ["", "Try it live: one photo through the try-it service once warm (face "
                  "finding, prediction, overlay), 20 FG-NET portraits:", "",
                  try_table(result["try_latency"])]
    for name, ext in result["ready_made"].items():
        if ext.get("trained_on"):
            lines.append(f"\n*{name}*: {ext['trained_on']}")
    return "\n".join(lines) + "\n"


def _load_sentence(result: dict[str, Any]) -> str:
    """The 1-minute load average before and after, when recorded: other jobs on the same
    cores slow every stage."""
    load = result.get("load")
    if not load:
        return ""
    return (f" Load average (1 min) {load['before']:.1f} before and {load['after']:.1f} after "
            f"on {result['cpus']} cores: other work shared the machine, so times are upper "
            f"bounds.")


def speed_table(speed: dict[str, Any] | None) -> list[str]:
    """Markdown lines for the speed ratios (ours / a baseline measured in the same run)."""
    if not speed:
        return []

    def cell(value):
        return "—" if value is None else f"{value:.4g}"

    lines = ["", "Speed, ours against a plain baseline measured in the same run "
             "(bench/speed.py says what each arm does):", "",
             "| measure | ours | baseline | ratio | target | met | unit |",
             "|---|---|---|---|---|---|---|"]
    for name, r in speed.items():
        if name.startswith("_"):
            continue
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {name} | {cell(r['ours'])} | {cell(r['baseline'])} | {cell(r['ratio'])} "
                     f"| {cell(r['target'])} | {met} | {r['unit']} |")
    return lines


def dashboard_table(dash: dict[str, Any] | None) -> list[str]:
    """Markdown lines for the dashboard's page render times (none when not measured)."""
    if not dash:
        return []
    if not dash.get("available", True):
        return ["", f"Dashboard speed: not measured ({dash['reason']})."]
    lines = ["", f"Dashboard page render in headless chromium with {dash['runs_seeded']} runs "
             f"(target: under {dash['target_s']:.0f} s; median of {dash['repeats']} loads by "
             "address, each a new session, until the main content is drawn):", "",
             "| page | load by address | sidebar click | met |", "|---|---|---|---|"]
    for name, page in dash["pages"].items():
        lines.append(f"| {name} | {page['warm_median_s']:.2f} s | {page['switch_median_s']:.2f} s "
                     f"| {'yes' if page['passed'] else '**no**'} |")
    return lines


def update_readme(markdown: str) -> None:
    """Replace the README's benchmark section (between the markers) with `markdown`."""
    text = README.read_text()
    start, end = MARKERS
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        README.write_text(f"{before}{start}\n{markdown}{end}{after}")


def _parser() -> argparse.ArgumentParser:
    from storage.settings import Settings

    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--data", default=str(Settings.from_env().shared_data / "utkface"),
                   help="the UTKFace folder (default: $AGEREC_SHARED_DATA/utkface)")
    p.add_argument("--preset", default="cpu", choices=("cpu", "smoke", "paper"))
    p.add_argument("--home", default=str(REPO / "var" / "bench"),
                   help="AGEREC_HOME for the benchmark (caches live there)")
    p.add_argument("--limit", type=int, help="a seeded sample of this many faces (quick runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-ready-made", action="store_true")
    p.add_argument("--skip-dashboard", action="store_true",
                   help="do not time the dashboard's pages in headless chromium")
    p.add_argument("--skip-try", action="store_true",
                   help="do not time the Try it page's answers (idle and under a training)")
    p.add_argument("--skip-ablation", action="store_true",
                   help="no ablation rows, FG-NET row or reruns (bench/ablation.py)")
    p.add_argument("--skip-fgnet", action="store_true",
                   help="no FG-NET cross-dataset row (its cnn face detection takes minutes)")
    p.add_argument("--trials", type=int, default=20,
                   help="random-search trials of every meta-model (the paper's 20)")
    p.add_argument("--update-readme", action="store_true",
                   help="write the table into README.md between the bench markers")
    return p


if __name__ == "__main__":
    sys.exit(main())
