"""The class mix a run's predictions are corrected to (`--target-prior`), from what its
dataset recorded at preprocessing: the train split's class counts (the prior the model
learned under; even when it trained with balanced class weights) and the source's class
counts before balancing."""
from __future__ import annotations

from typing import Any

from storage import datasets
from storage.db import Database
from storage.records import Run


def run_target_prior(db: Database, run: Run, target: Any, *, func: str):
    """The backend TargetPrior of `target` ('none', 'source' or weights) for `run`."""
    from backend.evaluation.priors import AS_TRAINED, check_target_prior, target_prior

    target = check_target_prior(target, func=func)
    if target == "none":
        return AS_TRAINED
    dataset = datasets.get_dataset(db, run.dataset_id)
    n_classes = len(dataset.class_scheme["edges"]) - 1
    train = _counts(dataset.summary.get("splits", {}).get("train"), n_classes)
    if train is not None and _balanced_weights(db, run):
        # Balanced class weights: the model learned as if every class were equally common.
        train = [1] * n_classes
    if train is None:
        raise ValueError(f"dataset {dataset.id} records no class counts of its train split "
                         f"(summary.splits.train), so run {run.id}'s training prior is unknown")
    source = _counts(dataset.summary.get("source_class_counts"), n_classes)
    if source is None and target == "source":
        raise ValueError(
            f"dataset {dataset.id} (of run {run.id}) was prepared before agerec recorded the "
            f"source's class frequencies, so the 'source' target prior is unknown. Re-run "
            f"`agerec preprocess` on its source ({dataset.source.kind} at "
            f"{dataset.source.path}) and train on the new dataset, or give the weights "
            f"yourself: --target-prior W1,W2,... (one per class).")
    return target_prior(target, train, source, labels=dataset.class_scheme.get("labels"),
                        func=func)


def _balanced_weights(db: Database, run: Run) -> bool:
    """Whether `run` (or, for an ensemble, every member) trained with balanced class weights."""
    from storage import runs

    if run.kind == "train":
        return (run.config or {}).get("class_weights") == "balanced"
    members = [runs.get_run(db, member) for member in run.members or []]
    return bool(members) and all(_balanced_weights(db, member) for member in members)


def _counts(by_class: dict[str, int] | None, n_classes: int) -> list[int] | None:
    """{"0": n, ...} as a list of n_classes counts; None when nothing was recorded."""
    if not by_class:
        return None
    return [int(by_class.get(str(c), 0)) for c in range(n_classes)]
