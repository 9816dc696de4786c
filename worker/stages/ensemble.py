"""The `ensemble` stage: combine member runs that share a class scheme, by averaging
or by a meta-model fit on their validation predictions only."""
from __future__ import annotations

from typing import Any

from backend.params import InvalidParameterError
from storage import jobs, runs
from worker.stages.pipeline import PIPELINE_DEFAULTS
from worker.stages.predictions import dataset_of, evaluate_split, headline, probs_on, run_dir
from worker.stages.stage_context import StageContext, ending_run


def run_ensemble(ctx: StageContext, params: dict[str, Any]) -> dict[str, Any]:
    """Fit (or average) the members, evaluate on the test split, record the run."""
    db = ctx.app.db
    members = [runs.get_run(db, run_id) for run_id in params["runs"]]
    _check_members(members)
    method = params.get("method", "meta")
    run = runs.create_run(db, members[0].dataset_id, "ensemble", method,
                          config={**params, **_departures(members, params)},
                          members=[m.id for m in members], job_id=ctx.job_id)
    with ending_run(ctx, run):
        if ctx.job_id:
            jobs.set_outputs(db, ctx.job_id, run_ids=[run.id], dataset_ids=[run.dataset_id])
        metrics = _fit_and_evaluate(ctx, run, members, method, params)
    return {"run_ids": [run.id], "run_id": run.id, "members": [m.id for m in members],
            "method": method, **headline(metrics)}


def _fit_and_evaluate(ctx: StageContext, run, members, method: str, params: dict[str, Any]):
    """Average or fit the meta-model on validation predictions, then test the ensemble."""
    from backend.ensemble import fit_meta, out_of_fold_probs, random_search, save_ensemble

    data = dataset_of(ctx, members[0])
    val_images, val_labels, _ = data.subset("val")
    if len(val_labels) == 0:
        raise ValueError(f"the val split of dataset {run.dataset_id} is empty, and the ensemble "
                         f"learns only from validation predictions; prepare more images")
    # Members' validation predictions are the meta-model's only training data.
    val_probs = []
    for i, member in enumerate(members):
        ctx.progress(i, len(members), "member predictions")
        val_probs.append(probs_on(ctx, member, "val", val_images))
    names = [f"{m.name}#{m.id}" for m in members]
    if method == "average":
        save_ensemble(run_dir(ctx, run), members=names, n_classes=data.n_classes)
    else:
        ctx.progress(0, 1, "random search")
        cfg, trials = random_search(val_probs, val_labels, n_trials=params.get("trials", 20),
                                    seed=params.get("seed", 0), cancel=ctx.cancel,
                                    progress=lambda t, n: ctx.progress(t, n, "random search"))
        model = fit_meta(val_probs, val_labels, cfg, seed=params.get("seed", 0))
        ctx.progress(0, 1, "out-of-fold predictions")
        held_out = out_of_fold_probs(val_probs, val_labels, cfg, seed=params.get("seed", 0))
        save_ensemble(run_dir(ctx, run), members=names, n_classes=data.n_classes, model=model,
                      cfg=cfg, trials=trials, out_of_fold=held_out)
    return evaluate_split(ctx, run, "test")


def _departures(members, params: dict[str, Any]) -> dict[str, Any]:
    """{'preset_departures': [...]}: this ensemble's own settings that leave its members'
    preset's recipe (a meta-model picked by that preset's random search, the paper's
    Table 1 ensemble for `paper`); {} when the members share no preset."""
    presets = {(m.config or {}).get("preset") for m in members}
    preset = presets.pop() if len(presets) == 1 else None
    if preset not in PIPELINE_DEFAULTS:
        return {}
    if params.get("method", "meta") != "meta":
        return {"preset_departures": ["method"]}
    # The search's trials count only for a meta-model.
    trials = PIPELINE_DEFAULTS[preset]["trials"]
    return {"preset_departures": ["trials"] if params.get("trials", trials) != trials else []}


def _check_members(members) -> None:
    """Members must be finished training runs on one dataset (one class scheme)."""
    if len(members) < 2:
        raise InvalidParameterError("runs", "ensemble", "at least two run ids",
                                    [m.id for m in members])
    for member in members:
        if member.kind != "train" or member.status != "succeeded":
            raise InvalidParameterError(
                "runs", "ensemble", "finished training runs",
                f"run {member.id} ({member.kind}, {member.status})")
    datasets_used = sorted({m.dataset_id for m in members})
    if len(datasets_used) > 1:
        raise InvalidParameterError("runs", "ensemble", "runs on one prepared dataset",
                                    f"runs on datasets {datasets_used}")
