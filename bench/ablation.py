"""The `cpu` pipeline built up step by step (issue 11), for `make bench`.

One row per step, each scored on the balanced test split and on the natural set:

1. frozen features: today's frozen EfficientNet-Lite0 (224 px, cached pooled features)
   and the plain dlib member, meta-model ensemble;
2. fine-tuned member: EfficientNet-Lite0's top blocks fine-tuned on its cached lower
   blocks (`fine_tune_top`), predictions without test-time mirroring;
3. + TTA: the same member averaging each face and its mirror;
4. + dlib augmentation: the dlib member trained on mirrored and jittered descriptors too;
5. + prior correction: the predictions moved to the source's class mix (`--target-prior
   source`); the balanced split shows what that costs on even classes;
6. more faces (`keep_all_faces`): every face outside the test split and the natural set
   trains, with balanced class weights, then the prior correction.

A row's wall time is what its members' training and its ensemble cost (preprocessing
excluded; the more-faces row includes its own). Rows 1-3 (and 4 when the preset leaves
dlib's augmentation out) refit the meta-model on the members' validation predictions
exactly as the `ensemble` stage does; the preset's own rows reuse the ensemble run.
Everything here tunes on validation only: `validation` lists each member's and
ensemble's validation accuracy, which decided the preset's choices.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SPLITS = ("val", "test", "natural")
# The dlib member's augmentation: the mirror and one jitter of every train crop.
DLIB_AUG = {"feature_passes": 3, "mirror_pass": True, "dlib_jitter": True}
DLIB_PLAIN = {"feature_passes": 1, "mirror_pass": False, "dlib_jitter": False}
IMAGE, DESCRIPTOR = "efficientnet_lite0", "dlib_face"


@dataclass
class Member:
    """One member run's probabilities on val, test and the natural set (one variant)."""

    name: str
    run: Any  # storage.records.Run
    wall_s: float  # its training time
    probs: dict[str, np.ndarray] = field(default_factory=dict)


def scores(probs: np.ndarray, labels: np.ndarray, n_classes: int) -> dict[str, float | None]:
    """accuracy, balanced accuracy (mean per-class recall) and one-off accuracy."""
    from backend.evaluation.metrics import classification_metrics

    m = classification_metrics(labels, np.asarray(probs).argmax(axis=1), n_classes)
    return {k: m[k] for k in ("accuracy", "balanced_accuracy", "one_off_accuracy", "n")}


def meta_probs(members: list[dict[str, np.ndarray]], val_labels: np.ndarray, *, trials: int,
               seed: int) -> tuple[dict[str, np.ndarray], float, float]:
    """The meta-model the ensemble stage would fit on these members' validation
    probabilities: (its probabilities on every split, its cross-validated validation
    accuracy, seconds to fit)."""
    from backend.ensemble import fit_meta, random_search

    started = time.perf_counter()
    val = [m["val"] for m in members]
    cfg, trials_out = random_search(val, val_labels, n_trials=trials, seed=seed)
    model = fit_meta(val, val_labels, cfg, seed=seed)
    out = {split: np.asarray(model.predict(np.concatenate([m[split] for m in members], axis=1),
                                           verbose=0), np.float32) for split in SPLITS}
    cv = max(t["cv_accuracy"] for t in trials_out)
    return out, float(cv), time.perf_counter() - started


def row(name: str, probs: dict[str, np.ndarray], labels: dict[str, np.ndarray], n_classes: int,
        wall_s: float, *, prior=None, note: str = "", val_cv: float | None = None
        ) -> dict[str, Any]:
    """One ablation row: test-split and natural-set scores of `probs` (moved to `prior`
    when given), with its wall time."""
    fix = (lambda p: p) if prior is None else prior.apply
    return {"name": name, "wall_s": wall_s, "note": note, "val_cv_accuracy": val_cv,
            "test": scores(fix(probs["test"]), labels["test"], n_classes),
            "natural": scores(fix(probs["natural"]), labels["natural"], n_classes)}


def member_probs(ctx, member: Member, images: dict[str, np.ndarray], *, tta: bool | None
                 ) -> dict[str, np.ndarray]:
    """`member`'s probabilities on each split's images (tta None: the run's own setting)."""
    from backend.training.run_folder import predict_probs

    run_dir = ctx.app.paths.resolve(member.run.dir)
    cache = ctx.app.paths.cache_dir("features")
    return {split: predict_probs(run_dir, images[split], tta=tta, cache_dir=cache)
            for split in SPLITS}


def train(ctx, dataset_id: int, config, name: str) -> Member:
    """Train and record one member run (as `agerec train` does), timed."""
    from storage import runs
    from worker.stages.train import train_member

    started = time.perf_counter()
    out = train_member(ctx, dataset_id, config, preset="cpu")
    return Member(name, runs.get_run(ctx.app.db, out["run_id"]), time.perf_counter() - started)


def is_augmented(member: Member) -> bool:
    """Whether a dlib member trained on more than its clean descriptors."""
    return int((member.run.config or {}).get("feature_passes", 1)) > 1


def run_ablation(ctx, prep: dict[str, Any], product: dict[str, Member],
                 natural: tuple[np.ndarray, np.ndarray], *, data_path: str, seed: int,
                 trials: int, limit: int | None = None, fgnet: str | None = None,
                 rerun: bool = True, preset: str = "cpu") -> dict[str, Any]:
    """Every row of the ablation, the validation accuracies behind the preset's choices,
    the FG-NET cross-dataset row and the reruns (same seed: split and image member).

    `product` holds the preset's members (by backbone) and its meta ensemble ("ensemble")
    as Members; `natural` is the natural set's (crops, labels). Members the preset did
    not train come from `preset` (`smoke` checks this code in minutes).
    """
    from backend.dataset import load_prepared
    from backend.ensemble import ensemble_predict
    from backend.models.registry import get_backbone
    from backend.training.config import frozen_features_config, preset_config
    from worker.stages.target_prior import run_target_prior

    data = load_prepared(ctx.app.paths.resolve(prep["dir"]))
    images, labels = {"natural": natural[0]}, {"natural": natural[1]}
    for split in ("val", "test"):
        images[split], labels[split], _ = data.subset(split)
    n = data.n_classes
    eff, dlib, ensemble_run = product[IMAGE], product[DESCRIPTOR], product["ensemble"].run
    # The members each row needs that the preset did not train.
    frozen_config = (frozen_features_config(get_backbone(IMAGE)) if preset == "cpu" else
                     preset_config(preset, IMAGE, schedule="frozen_features"))
    frozen = train(ctx, prep["dataset_id"], frozen_config, "efficientnet_lite0, frozen features")
    plain = (dlib if not is_augmented(dlib) else
             train(ctx, prep["dataset_id"], preset_config(preset, DESCRIPTOR, **DLIB_PLAIN),
                   "dlib_face, clean descriptors"))
    aug = (dlib if is_augmented(dlib) else
           train(ctx, prep["dataset_id"], preset_config(preset, DESCRIPTOR, **DLIB_AUG),
                 "dlib_face, + mirror and jitter"))
    probs = {"frozen": member_probs(ctx, frozen, images, tta=None),
             "plain": member_probs(ctx, plain, images, tta=None),
             "aug": member_probs(ctx, aug, images, tta=None),
             "fine": member_probs(ctx, eff, images, tta=False),
             "fine_tta": member_probs(ctx, eff, images, tta=True)}
    validation = {
        "efficientnet_lite0, frozen features": _acc(probs["frozen"], labels),
        "efficientnet_lite0, fine-tuned top": _acc(probs["fine"], labels),
        "efficientnet_lite0, fine-tuned top + TTA": _acc(probs["fine_tta"], labels),
        "dlib_face, clean descriptors": _acc(probs["plain"], labels),
        "dlib_face, + mirror and jitter": _acc(probs["aug"], labels)}
    rows = []
    steps = (("frozen features", ["frozen", "plain"], frozen.wall_s + plain.wall_s),
             ("fine-tuned member", ["fine", "plain"], eff.wall_s + plain.wall_s),
             ("+ TTA", ["fine_tta", "plain"], eff.wall_s + plain.wall_s))
    for name, keys, wall in steps:
        out, cv, fit_s = meta_probs([probs[k] for k in keys], labels["val"], trials=trials,
                                    seed=seed)
        rows.append(row(name, out, labels, n, wall + fit_s, val_cv=cv))
        validation[f"ensemble: {name} (3-fold CV inside val)"] = cv
    ens_dir = ctx.app.paths.resolve(ensemble_run.dir)
    product_probs = {split: ensemble_predict(ens_dir, [probs["fine_tta"][split],
                                                       probs["aug" if is_augmented(dlib)
                                                             else "plain"][split]])
                     for split in SPLITS}
    ens_wall = product["ensemble"].wall_s
    if is_augmented(dlib):
        rows.append(row("+ dlib augmentation", product_probs, labels, n,
                        eff.wall_s + dlib.wall_s + ens_wall, note="the `cpu` preset"))
    else:
        out, cv, fit_s = meta_probs([probs["fine_tta"], probs["aug"]], labels["val"],
                                    trials=trials, seed=seed)
        rows.append(row("+ dlib augmentation", out, labels, n, eff.wall_s + aug.wall_s + fit_s,
                        val_cv=cv, note="not in the `cpu` preset"))
        validation["ensemble: + dlib augmentation (3-fold CV inside val)"] = cv
    prior = run_target_prior(ctx.app.db, ensemble_run, "source", func="bench")
    rows.append(row("+ prior correction (`cpu` preset, --target-prior source)", product_probs,
                    labels, n, eff.wall_s + dlib.wall_s + ens_wall, prior=prior,
                    note="the balanced split has even classes: the correction costs there"))
    more, more_val = more_faces(ctx, data_path, prep, (images["natural"], labels["natural"]),
                                seed=seed, trials=trials, limit=limit, preset=preset)
    rows.append(more.pop("row"))
    validation.update(more_val)
    result = {"rows": rows, "validation": validation, "val_n": int(len(labels["val"])),
              "natural_n": int(len(labels["natural"])), "split_rerun": more.get("split_rerun"),
              "dlib_augmented_in_preset": is_augmented(dlib)}
    if rerun:
        result["rerun"] = rerun_member(ctx, prep, eff, probs["fine_tta"], images, labels)
    result["fgnet"] = fgnet_row(ctx, ensemble_run, fgnet)
    return result


def _acc(probs: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> float:
    return float(np.mean(probs["val"].argmax(axis=1) == labels["val"]))


def more_faces(ctx, data_path: str, prep: dict[str, Any], natural, *, seed: int, trials: int,
               limit: int | None, preset: str = "cpu") -> tuple[dict[str, Any], dict[str, float]]:
    """The more-faces row: keep_all_faces preprocessing (same seed), both members with
    balanced class weights, the meta ensemble, the prior correction; plus whether its
    balanced rows and split repeat the first preprocessing's exactly."""
    import pandas as pd

    from backend.training.config import preset_config
    from bench.natural import natural_test_frame, source_class_counts
    from storage import runs
    from worker.stages.ensemble import run_ensemble
    from worker.stages.preprocess import run_preprocess
    from worker.stages.target_prior import run_target_prior

    started = time.perf_counter()
    more = run_preprocess(ctx, {"source": "utkface", "path": data_path, "detector": "none",
                                "limit": limit, "seed": seed, "keep_all_faces": True})
    prep_s = time.perf_counter() - started
    members = [train(ctx, more["dataset_id"], preset_config(preset, b, class_weights="balanced"),
                     f"{b}, more faces") for b in (IMAGE, DESCRIPTOR)]
    t = time.perf_counter()
    ens = run_ensemble(ctx, {"runs": [m.run.id for m in members], "method": "meta",
                             "trials": trials, "seed": seed})
    ens_s = time.perf_counter() - t
    ens_run = runs.get_run(ctx.app.db, ens["run_id"])
    more_dir = ctx.app.paths.resolve(more["dir"])
    first_dir = ctx.app.paths.resolve(prep["dir"])
    frame = natural_test_frame(more_dir, source_class_counts(more_dir), seed)
    first = natural_test_frame(first_dir, source_class_counts(first_dir), seed)
    if list(frame["source_path"]) != list(first["source_path"]):
        raise RuntimeError("keep_all_faces reserved another natural set than the benchmark's")
    from worker.stages.predictions import predict

    images, labels = natural[0], {"natural": natural[1]}
    probs = {"natural": predict(ctx, ens_run, images)}
    from backend.dataset import load_prepared

    data = load_prepared(more_dir)
    for split in ("val", "test"):
        split_images, labels[split], _ = data.subset(split)
        probs[split] = predict(ctx, ens_run, split_images, split=split)
    wall = prep_s + sum(m.wall_s for m in members) + ens_s
    prior = run_target_prior(ctx.app.db, ens_run, "source", func="bench")
    out = {"row": row("more faces (keep_all_faces, balanced loss weights) + prior correction",
                      probs, labels, data.n_classes, wall, prior=prior,
                      note=f"{int((data.manifest['split'] == 'train').sum())} train faces")}
    val = {f"{m.name}": float(runs.get_metrics(ctx.app.db, m.run.id, scope="val")
                              .get("val_accuracy") or 0.0) for m in members}
    # The same seed must deal the balanced faces into the same splits.
    a = pd.read_csv(first_dir / "manifest.csv", keep_default_na=False)
    b = pd.read_csv(more_dir / "manifest.csv", keep_default_na=False)
    b = b[~b["extra"].astype(bool)]
    same = (list(a["source_path"]) == list(b["source_path"])
            and list(a["split"]) == list(b["split"]))
    out["split_rerun"] = {"same": same, "n": len(a), "sentence": (
        f"Reproducibility of the split: preprocessing again with the same seed (the "
        f"more-faces run) dealt the {len(a)} balanced faces into "
        f"{'exactly the same' if same else '**other**'} train/val/test splits.")}
    return out, val


def rerun_member(ctx, prep: dict[str, Any], eff: Member, first: dict[str, np.ndarray],
                 images: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> dict[str, Any]:
    """The image member trained again with the same config and seed: how far its metrics
    move (issue 11 asks for at most 0.5 point)."""
    from backend.training.run_folder import load_run_config

    config, _ = load_run_config(ctx.app.paths.resolve(eff.run.dir))
    again = train(ctx, prep["dataset_id"], config, eff.name)
    second = member_probs(ctx, again, images, tta=True)  # as `first`, the TTA probabilities
    diffs = {}
    for split in ("val", "test", "natural"):
        a = float(np.mean(first[split].argmax(1) == labels[split]))
        b = float(np.mean(second[split].argmax(1) == labels[split]))
        diffs[split] = {"first": a, "again": b, "diff_points": round(100 * (b - a), 2)}
    worst = max(abs(d["diff_points"]) for d in diffs.values())
    parts = ", ".join(f"{k} {100 * d['first']:.1f}% -> {100 * d['again']:.1f}%"
                      for k, d in diffs.items())
    return {"splits": diffs, "max_diff_points": worst, "wall_s": again.wall_s,
            "sentence": f"Reproducibility of the image member: trained again with the same "
                        f"seed on the same dataset ({again.wall_s / 60:.1f} min): {parts}; "
                        f"largest change {worst:.2f} points "
                        f"({'within' if worst <= 0.5 else '**outside**'} the 0.5-point goal)."}


def fgnet_row(ctx, ensemble_run, fgnet: str | None) -> dict[str, Any]:
    """The cpu ensemble on FG-NET, faces found by the cnn detector; skipped (with the
    reason) when FG-NET is absent."""
    from pathlib import Path

    from worker.stages.evaluate import run_evaluate

    if not fgnet or not Path(fgnet).is_dir():
        why = f"FG-NET not found at {fgnet}" if fgnet else "asked to (--skip-fgnet)"
        return {"skipped": True, "sentence": f"FG-NET cross-dataset row: skipped, {why}."}
    from storage import runs

    started = time.perf_counter()
    scope = run_evaluate(ctx, {"run_id": ensemble_run.id, "source": "fgnet", "path": fgnet,
                               "detector": "cnn"})["scope"]
    wall = time.perf_counter() - started
    out = runs.get_metrics(ctx.app.db, ensemble_run.id, scope=scope)
    return {**{k: out.get(k) for k in ("accuracy", "balanced_accuracy", "one_off_accuracy",
                                        "n", "skipped", "per_class_accuracy")}, "wall_s": wall,
            "sentence": (
                f"Cross-dataset: the `cpu` ensemble on FG-NET ({out.get('n')} faces found by the "
                f"cnn detector, {out.get('skipped')} photos skipped; ages 0-69, mostly "
                f"children, no gender labels): accuracy {_pct(out.get('accuracy'))}, balanced "
                f"accuracy {_pct(out.get('balanced_accuracy'))}, one-off "
                f"{_pct(out.get('one_off_accuracy'))} ({wall / 60:.1f} min with detection).")}


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render(result: dict[str, Any]) -> list[str]:
    """Markdown lines: the ablation table, the validation choices and the reruns."""
    def pct(v):
        return "—" if v is None else f"{100 * v:.1f}%"

    lines = ["", "Ablation of the `cpu` pipeline, step by step (meta-model ensembles; "
             "bench/ablation.py). Balanced split: the test split (balanced accuracy is the "
             "mean of per-class recall); natural set: the faces no member trained on, at "
             f"UTKFace's class mix (n={result['natural_n']}). Wall time: the row's training "
             "and ensemble:", "",
             "| step | balanced split: accuracy | balanced acc. | one-off | natural set: "
             "accuracy | one-off | wall time | note |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        t, n = r["test"], r["natural"]
        lines.append(f"| {r['name']} | {pct(t['accuracy'])} | {pct(t['balanced_accuracy'])} "
                     f"| {pct(t['one_off_accuracy'])} | {pct(n['accuracy'])} "
                     f"| {pct(n['one_off_accuracy'])} | {r['wall_s'] / 60:.1f} min "
                     f"| {r['note']} |")
    val = result.get("validation") or {}
    if val:
        lines += ["", "Validation accuracy (what decided the preset; val split, n="
                  f"{result.get('val_n')}):", "", "| model | val accuracy |", "|---|---|"]
        lines += [f"| {name} | {pct(v)} |" for name, v in val.items()]
    for key in ("fgnet", "rerun", "split_rerun"):
        if result.get(key):
            lines += ["", result[key]["sentence"]]
    return lines
