"""Keras callbacks that connect a training run to its caller and to its run folder.

- ProgressCallback: reports every batch and every epoch end to `progress(...)`.
- CancelCallback: polls `cancel()` every batch; raises TrainingCancelled at once,
  so a half-finished epoch is never validated or checkpointed as if complete.
- ResumeState + ResumeCheckpoint: after every epoch, `last.keras` (model and
  optimizer) then `state.json`, so a killed or cancelled run resumes where it was.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import keras

STATE_FILE = "state.json"
LAST_MODEL = "last.keras"
# Which file a resumed stage loads: the mid-stage model with its optimizer, the
# best weights so far (a stage start), or nothing (a fresh stage 0).
WEIGHT_SOURCES = ("last", "best", "none")


class TrainingCancelled(RuntimeError):
    """The caller's cancel() returned True; the run folder holds a resumable checkpoint."""


@dataclass
class ResumeState:
    """Where a run stands, written as state.json after every epoch."""

    stage_index: int = 0  # index of the stage to run (or running) in the schedule
    stage: str = ""  # its name: 'fine_tune', 'frozen', 'cycle_1', ..., 'head'
    cycle: int = 0  # unfreezing cycle (0 = frozen stage or no cycles)
    epoch: int = 0  # epochs of this stage already completed
    global_epoch: int = 0  # epochs completed over all stages
    weights: str = "none"  # what resume loads: one of WEIGHT_SOURCES
    lr: float | None = None  # the optimizer's learning rate now (after plateau cuts)
    best_val_loss: float | None = None  # lowest validation loss so far (checkpointed)
    best_val_accuracy: float | None = None  # validation accuracy at that epoch
    best_epoch: int | None = None  # global index of that epoch
    cycle_val_accs: list[float] = field(default_factory=list)  # best val acc per finished stage
    stage_seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    done: bool = False  # the whole schedule has finished
    dataset: str = ""  # the prepared dataset the run trains on

    def save(self, run_dir: str | os.PathLike) -> Path:
        """Write state.json atomically: a reader never sees half a file."""
        return write_json(Path(run_dir) / STATE_FILE, asdict(self))

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> ResumeState | None:
        """The saved state, or None when the folder has none."""
        path = Path(run_dir) / STATE_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class ProgressCallback(keras.callbacks.Callback):
    """Call `progress(stage=, epoch=, step=, total_steps=, loss=, metrics=)` after every
    training batch and at each epoch end (step == total_steps, validation included)."""

    def __init__(self, progress: Callable[..., Any], *, stage: str = "train",
                 epoch_offset: int = 0):
        super().__init__()
        self.progress, self.stage, self.epoch_offset = progress, stage, epoch_offset
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = self.epoch_offset + epoch

    def on_train_batch_end(self, batch, logs=None):
        # Keras hands callbacks plain floats here, so a report costs no device sync.
        self._report(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._report(self.params.get("steps"), logs)

    def _report(self, step, logs) -> None:
        logs = dict(logs or {})
        loss = logs.pop("loss", None)
        self.progress(stage=self.stage, epoch=self._epoch, step=step,
                      total_steps=self.params.get("steps"),
                      loss=None if loss is None else float(loss),
                      metrics={k: float(v) for k, v in logs.items()})


class CancelCallback(keras.callbacks.Callback):
    """Poll `cancel()` after every training and validation batch; raise TrainingCancelled
    when it returns True (the trainer saves the checkpoint and re-raises)."""

    def __init__(self, cancel: Callable[[], bool]):
        super().__init__()
        self.cancel = cancel

    def on_train_batch_end(self, batch, logs=None):
        self._poll()

    def on_test_batch_end(self, batch, logs=None):
        self._poll()

    def _poll(self) -> None:
        if self.cancel():
            # Stop inside the epoch: stop_training alone would still validate it.
            self.model.stop_training = True
            raise TrainingCancelled("training was cancelled")


class ResumeCheckpoint(keras.callbacks.Callback):
    """At each epoch end: `record(epoch, logs)` returns the new ResumeState, then
    last.keras and state.json are written, in that order. Put it last in the list,
    after ReduceLROnPlateau, so the saved optimizer has this epoch's lr cut."""

    def __init__(self, run_dir: str | os.PathLike,
                 record: Callable[[int, dict], ResumeState]):
        super().__init__()
        self.run_dir, self.record = Path(run_dir), record

    def on_epoch_end(self, epoch, logs=None):
        state = self.record(epoch, dict(logs or {}))
        save_last_model(self.model, self.run_dir)
        state.save(self.run_dir)


def save_last_model(model: keras.Model, run_dir: str | os.PathLike) -> Path:
    """Save the full model with its optimizer as last.keras, atomically."""
    target = Path(run_dir) / LAST_MODEL
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, target)
    return target


def write_json(path: Path, payload: Any) -> Path:
    """Write JSON through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return path
