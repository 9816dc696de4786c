"""Predict a run (member or ensemble) on a split, evaluate it and record the metrics,
the per-image predictions and the cached probabilities."""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from storage import artifacts, datasets, runs
from storage.records import Run
from worker.stages.stage_context import StageContext

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the backend loads lazily, inside the stage bodies
    from backend.evaluation.priors import TargetPrior

METRIC_KEYS = ("accuracy", "one_off_accuracy", "per_class_accuracy", "confusion_matrix",
               "macro_f1", "qwk", "greyscale_accuracy", "n", "balanced_accuracy",
               "accuracy_ci95", "one_off_ci95", "balanced_accuracy_ci95", "per_class_ci95",
               "per_class_n", "per_group", "max_gap", "ece", "ece_calibrated", "temperature",
               "calibration")
# Under a target prior: the accuracies expected on a population with its class mix.
PRIOR_KEYS = tuple(f"{who}population_{what}" for who in ("", "as_trained_")
                   for what in ("accuracy", "accuracy_ci95", "one_off_accuracy"))


def run_dir(ctx: StageContext, run: Run) -> Path:
    return ctx.app.paths.resolve(run.dir)


def dataset_of(ctx: StageContext, run: Run):
    """The run's prepared dataset, loaded (images memory-mapped)."""
    from backend.dataset import load_prepared

    dataset = datasets.get_dataset(ctx.app.db, run.dataset_id)
    return load_prepared(ctx.app.paths.resolve(dataset.dir))


def probs_on(ctx: StageContext, run: Run, split: str, images: np.ndarray, *,
             greyscale: bool = False) -> np.ndarray:
    """Class probabilities of `run` on a dataset split, cached as probs-<split>[-grey].npy."""
    path = run_dir(ctx, run) / f"probs-{split}{'-grey' if greyscale else ''}.npy"
    if path.exists():
        return np.load(path)
    probs = predict(ctx, run, images, greyscale=greyscale, split=split)
    np.save(path, probs)
    return probs


def predict(ctx: StageContext, run: Run, images: np.ndarray, *, greyscale: bool = False,
            split: str | None = None, memo: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """Class probabilities of `run` on uint8 crops: a member directly, an ensemble
    through its members (reusing their cached probabilities when `split` names a split
    of the run's dataset).

    `memo` maps run ids to probabilities already computed on these same images (and
    colour mode); it is read and filled, so runs and ensembles predicted one after the
    other on one image set compute each member once.
    """
    from backend.ensemble import ensemble_predict
    from backend.training.run_folder import predict_probs

    if memo is not None and run.id in memo:
        return memo[run.id]
    if run.kind == "train":
        probs = predict_probs(run_dir(ctx, run), images, greyscale=greyscale,
                              cache_dir=ctx.app.paths.cache_dir("features"))
    else:
        members = [runs.get_run(ctx.app.db, member) for member in run.members]
        member_probs = [probs_on(ctx, m, split, images, greyscale=greyscale) if split
                        else predict(ctx, m, images, greyscale=greyscale, memo=memo)
                        for m in members]
        probs = ensemble_predict(run_dir(ctx, run), member_probs)
    if memo is not None:
        memo[run.id] = probs
    return probs


def run_temperature(ctx: StageContext, run: Run, data=None) -> float:
    """The run's temperature: the one stored with it, else fitted now on its validation
    predictions (cached probabilities; a meta ensemble's out of fold, since its
    meta-model learned from those faces) and stored; 1.0 when the val split is empty."""
    from backend.ensemble import saved_out_of_fold
    from backend.evaluation.calibration import fit_summary

    stored = runs.get_temperature(ctx.app.db, run.id)
    if stored is not None:
        return stored
    data = data if data is not None else dataset_of(ctx, run)
    images, labels, _ = data.subset("val")
    held_out = saved_out_of_fold(run_dir(ctx, run)) if run.kind == "ensemble" else None
    if len(labels) == 0:
        log.warning("run %s: no validation images, so its temperature stays 1.0", run.id)
        fit = {"temperature": 1.0, "fitted_on": "none (empty val split)", "n": 0}
    elif held_out is not None and len(held_out) == len(labels):
        fit = {**fit_summary(held_out, labels),
               "fitted_on": "val, out of fold (each face scored by a meta-model fit without it)"}
    else:
        if held_out is not None:
            log.warning("run %s: its out-of-fold predictions cover %d faces, its val split "
                        "%d; the temperature is fitted in sample", run.id, len(held_out),
                        len(labels))
        fit = fit_summary(probs_on(ctx, run, "val", images), labels)
    runs.record_calibration(ctx.app.db, run.id, fit)
    return float(fit["temperature"])


def evaluate_split(ctx: StageContext, run: Run, split: str = "test",
                   prior: TargetPrior | None = None) -> dict[str, Any]:
    """Evaluate `run` on one split of its dataset, colour and greyscale, with its
    probabilities corrected to `prior` when given; record it all under the split's scope
    (`test`, or `test+prior:source` under a target prior)."""
    from backend.evaluation.evaluate import predictions_frame
    from backend.evaluation.priors import AS_TRAINED, evaluate_under_prior

    prior = prior or AS_TRAINED
    data = dataset_of(ctx, run)
    ctx.progress(0, 2, f"evaluate {split}")
    images, labels, rows = data.subset(split)
    if len(rows) == 0:
        raise ValueError(f"the {split} split of dataset {run.dataset_id} has no images to "
                         f"evaluate on; prepare more images (a larger --limit)")
    probs = probs_on(ctx, run, split, images)
    ctx.progress(1, 2, f"evaluate {split}")
    grey = probs_on(ctx, run, split, images, greyscale=True)
    ctx.progress(2, 2, f"evaluate {split}")
    metrics, probs = evaluate_under_prior(labels, probs, data.n_classes, prior,
                                          genders=data.genders[rows], grey_probs=grey,
                                          temperature=run_temperature(ctx, run, data),
                                          groups=data.groups(rows))
    scope = prior.scope(split)
    frame = predictions_frame(data.manifest.iloc[rows], labels, probs)
    name = "predictions.csv" if scope == "test" else f"predictions-{file_part(scope)}.csv"
    out = run_dir(ctx, run) / name
    frame.to_csv(out, index=False)
    db = ctx.app.db
    runs.record_metrics(db, run.id, scope, metrics)
    artifacts.add_artifact(db, "predictions", out, run_id=run.id,
                           meta={"split": split, "scope": scope})
    return metrics


def file_part(scope: str) -> str:
    """A metrics scope as part of a file name: 'test+prior:source' -> 'test-prior-source'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", scope)


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metric keys every command prints (and the population ones, when there)."""
    return {**{key: metrics.get(key) for key in METRIC_KEYS},
            **{key: metrics[key] for key in PRIOR_KEYS if key in metrics}}
