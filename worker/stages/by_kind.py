"""Which stage function runs each job kind."""
from __future__ import annotations

from worker.stages.ensemble import run_ensemble
from worker.stages.evaluate import run_evaluate
from worker.stages.gradcam import run_gradcam
from worker.stages.pipeline import run_pipeline
from worker.stages.preprocess import run_preprocess
from worker.stages.train import run_train

STAGES = {
    "preprocess": run_preprocess,
    "train": run_train,
    "ensemble": run_ensemble,
    "evaluate": run_evaluate,
    "gradcam": run_gradcam,
    "pipeline": run_pipeline,
}
