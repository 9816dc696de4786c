"""Train one member model into a run folder (paper section 3.3).

A schedule is a list of stages; each stage sets which base layers train,
compiles Adam at the stage's learning rate and fits with the paper's callbacks:
ReduceLROnPlateau and EarlyStopping (best weights restored) on validation loss,
and a checkpoint of the best epoch over the whole run (`best.weights.h5`).

- 'fixed' (VGG-19): one stage with the top `trainable_top_layers` base layers open.
- 'gradual_unfreeze' (ResNet152V2): a frozen stage, then cycles that each open
  `unfreeze_step` more base layers at lr / 10 (or lr / 10**cycle with
  cycle_lr_decay='compounding'), until `max_stale_cycles`
  cycles bring no validation-accuracy gain. Each stage starts from the best weights.
- 'frozen_features': backbone features (or dlib descriptors, the cpu preset's
  dlib member) computed once and cached, then one stage trains the dense head on them.
- 'fine_tune_top' (the cpu preset's image member): the backbone's lower blocks'
  output cached once per pass, then one stage trains its top blocks and the head
  on it (`top_features.py`).

Run folder: config.json, scheme.json, history.json, state.json, last.keras,
best.weights.h5 (the weights of the model `run_folder.load_run_model` rebuilds).
"""
from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from backend.data.augment import class_strengths
from backend.data.input_pipeline import make_dataset
from backend.dataset import PreparedData
from backend.models.build import base_layers, build_model, feature_extractor, set_base_trainable
from backend.models.registry import get_backbone
from backend.params import InvalidParameterError
from backend.training.callbacks import (LAST_MODEL, CancelCallback, ProgressCallback,
                                        ResumeCheckpoint, ResumeState, TrainingCancelled,
                                        save_last_model, write_json)
from backend.training.config import TrainConfig
from backend.training.features import (cache_root, class_weight_map, compose,
                                       descriptor_featurizer, feature_dataset, feature_head,
                                       image_featurizer)
from backend.training.schedules import cycle_learning_rate, should_stop, unfreeze_plan
from backend.training.top_features import TOP_WEIGHTS, train_top

BEST_WEIGHTS = "best.weights.h5"
HEAD_WEIGHTS = "head.weights.h5"  # the head's checkpoint while a frozen-features run trains
RUN_FILES = ("config.json", "scheme.json", "history.json", "state.json", LAST_MODEL,
             BEST_WEIGHTS, HEAD_WEIGHTS, TOP_WEIGHTS)
KEEP = "keep"  # a stage that leaves layer trainability as built (a head on features)

__all__ = ["TrainResult", "TrainingCancelled", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What a finished run reports; the run folder holds the same on disk."""

    run_dir: Path
    history: list[dict]  # one row per epoch: epoch, stage, cycle, losses, accuracies, lr, seconds
    best_epoch: int | None  # global index of the epoch with the lowest validation loss
    val_metrics: dict[str, float | None]  # val_loss and val_accuracy at that epoch
    stage_seconds: dict[str, float]  # wall time per stage ('features', 'frozen', 'cycle_1', ...)


@dataclass(frozen=True)
class Stage:
    """One fit: which base layers train, for how long, at which learning rate."""

    index: int
    name: str
    cycle: int
    epochs: int
    trainable_top: int | None | str  # top base layers trained; None = all; KEEP = untouched
    learning_rate: float


def train(config: TrainConfig, data: PreparedData, run_dir: str | os.PathLike, *,
          progress: Callable[..., Any] | None = None, cancel: Callable[[], bool] | None = None,
          resume: bool = False, cache_dir: str | os.PathLike | None = None,
          weights_cache_dir: str | os.PathLike | None = None) -> TrainResult:
    """Train `config` on the train split of `data`, validating on its val split.

    progress(stage=, epoch=, step=, total_steps=, loss=, metrics=) is called every
    batch (stage 'features_train'/'features_val' with epoch = pass index and
    loss None while features are computed); cancel() is polled every batch and, when True, the run saves a
    resumable checkpoint and raises TrainingCancelled. resume=True continues from
    run_dir's state.json (a finished run just returns its result). cache_dir holds
    cached features and descriptors (default: run_dir/cache).
    """
    if not isinstance(config, TrainConfig):
        raise InvalidParameterError("config", "train", "a TrainConfig", config)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state, history = _open_run(config, data, run_dir, resume)
    if not state.done:
        run = _Run(config, data, run_dir, state, history, progress, cancel,
                   cache_root(cache_dir, run_dir), weights_cache_dir)
        with _accelerated(config) as xla:
            run.xla = xla
            # One seed for weight init, shuffling and dropout: reruns repeat.
            keras.utils.set_random_seed(config.seed)
            if config.schedule == "frozen_features":
                _train_on_features(run)
            elif config.schedule == "fine_tune_top":
                train_top(run, Stage(0, "top", 0, config.epochs, KEEP, config.learning_rate),
                          BEST_WEIGHTS)
            else:
                _train_end_to_end(run)
        state.done = True
        state.save(run_dir)
    return TrainResult(run_dir=run_dir, history=history, best_epoch=state.best_epoch,
                       val_metrics={"val_loss": state.best_val_loss,
                                    "val_accuracy": state.best_val_accuracy},
                       stage_seconds=dict(state.stage_seconds))


def _open_run(config: TrainConfig, data: PreparedData, run_dir: Path,
              resume: bool) -> tuple[ResumeState, list[dict]]:
    """The saved state and history when resuming, else a clean folder and a fresh state."""
    dataset = str(Path(data.root).resolve())
    saved = ResumeState.load(run_dir) if resume else None
    if saved is not None:
        # Resuming with other settings would silently mix two experiments.
        stored = json.loads((run_dir / "config.json").read_text())
        if stored != json.loads(json.dumps(config.to_dict())):
            raise InvalidParameterError("config", "train", "the config saved in run_dir "
                                        "(config.json) when resume=True", config)
        if saved.dataset != dataset:
            raise InvalidParameterError("data", "train", f"the dataset the run started on "
                                        f"({saved.dataset}) when resume=True", dataset)
        history_file = run_dir / "history.json"
        history = json.loads(history_file.read_text()) if history_file.exists() else []
        # Rows past the last saved state belong to an epoch that will be redone.
        return saved, history[:saved.global_epoch]
    # A fresh run must not pick up a previous run's checkpoints.
    for name in RUN_FILES:
        (run_dir / name).unlink(missing_ok=True)
    write_json(run_dir / "config.json", config.to_dict())
    write_json(run_dir / "scheme.json", data.scheme)
    state = ResumeState(dataset=dataset)
    state.save(run_dir)
    return state, []


@contextmanager
def _accelerated(config: TrainConfig):
    """Mixed precision for the duration of the run; yields whether to XLA-compile."""
    gpu = bool(tf.config.list_physical_devices("GPU"))
    mixed = config.mixed_precision == "on" or (config.mixed_precision == "auto" and gpu)
    xla = config.xla == "on" or (config.xla == "auto" and gpu)
    previous = keras.mixed_precision.global_policy()
    if mixed:
        # float16 compute, float32 variables; the head's softmax stays float32.
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield xla
    finally:
        keras.mixed_precision.set_global_policy(previous)


class _Run:
    """The state of one training run: bookkeeping shared by every stage."""

    def __init__(self, config, data, run_dir, state, history, progress, cancel, cache, weights_cache):
        self.config, self.data, self.run_dir = config, data, run_dir
        self.state, self.history = state, history
        self.progress, self.cancel = progress, cancel
        self.cache, self.weights_cache = cache, weights_cache
        self.xla = False
        self._mark = time.monotonic()
        # 'balanced' class weights, from the train split's counts (None: every row weighs 1).
        self.class_weight = class_weight_map(config, data.labels[data.split_indices("train")],
                                             data.n_classes)

    def fit_stage(self, model: keras.Model, stage: Stage, train_ds, val_ds, best_path: Path) -> None:
        """Run one stage (or the rest of it, when resuming), then load the best weights."""
        state = self.state
        if stage.index < state.stage_index:
            return
        if stage.trainable_top != KEEP:
            set_base_trainable(model, stage.trainable_top)
        # Trainability only takes effect at compile; a new stage gets a fresh Adam.
        model.compile(optimizer=keras.optimizers.Adam(stage.learning_rate),
                      loss="categorical_crossentropy", metrics=["accuracy"], jit_compile=self.xla)
        start = state.epoch if stage.index == state.stage_index else 0
        self._load_resume_weights(model, stage, best_path)
        state.stage_index, state.stage, state.cycle, state.epoch = (
            stage.index, stage.name, stage.cycle, start)
        started = time.monotonic()
        self._mark = started
        try:
            if start < stage.epochs:
                # The datasets shuffle themselves (seeded); fit must not try to.
                model.fit(train_ds, validation_data=val_ds, epochs=stage.epochs, initial_epoch=start,
                          callbacks=self._callbacks(model, stage, best_path, start), verbose=0,
                          shuffle=False, class_weight=self.class_weight)
        except TrainingCancelled:
            # Mid-epoch weights and optimizer: resume redoes only the unfinished epoch.
            self.add_seconds(stage.name, started)
            save_last_model(model, self.run_dir)
            state.weights = "last"
            state.save(self.run_dir)
            raise
        self.add_seconds(stage.name, started)
        self._finish_stage(model, stage, best_path)

    def _callbacks(self, model: keras.Model, stage: Stage, best_path: Path, start: int) -> list:
        """The paper's three callbacks, then ours; ResumeCheckpoint last (after the lr cut)."""
        cfg = self.config
        offset = len(self.history) - start
        callbacks = [
            keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=cfg.plateau_factor,
                                              patience=cfg.plateau_patience, min_lr=cfg.min_lr),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.early_stopping_patience,
                                          restore_best_weights=True),
            # The threshold carries the run's best over stages: only a better epoch overwrites.
            keras.callbacks.ModelCheckpoint(str(best_path), monitor="val_loss", save_best_only=True,
                                            save_weights_only=True,
                                            initial_value_threshold=self.state.best_val_loss),
        ]
        if self.progress is not None:
            callbacks.append(ProgressCallback(self.progress, stage=stage.name, epoch_offset=offset))
        if self.cancel is not None:
            callbacks.append(CancelCallback(self.cancel))
        callbacks.append(ResumeCheckpoint(
            self.run_dir, lambda epoch, logs: self._record(model, stage, offset, epoch, logs)))
        return callbacks

    def _record(self, model: keras.Model, stage: Stage, offset: int, epoch: int,
                logs: dict) -> ResumeState:
        """Append the epoch to history.json and move the state past it."""
        now = time.monotonic()
        row = {"epoch": offset + epoch, "stage": stage.name, "stage_index": stage.index,
               "cycle": stage.cycle, "stage_epoch": epoch, "seconds": round(now - self._mark, 3),
               **{k: _number(logs.get(k)) for k in
                  ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")}}
        self._mark = now
        self.history.append(row)
        write_json(self.run_dir / "history.json", self.history)
        state = self.state
        # Strictly lower, as ModelCheckpoint decides, so both name the same epoch.
        if row["val_loss"] is not None and (state.best_val_loss is None
                                            or row["val_loss"] < state.best_val_loss):
            state.best_val_loss, state.best_val_accuracy = row["val_loss"], row["val_accuracy"]
            state.best_epoch = row["epoch"]
        state.epoch, state.global_epoch, state.weights = epoch + 1, len(self.history), "last"
        state.lr = _number(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        return state

    def _load_resume_weights(self, model: keras.Model, stage: Stage, best_path: Path) -> None:
        """On the stage the state points at, load what it says: last.keras or the best."""
        state = self.state
        if stage.index != state.stage_index or state.weights == "none":
            return
        if state.weights == "last":
            # The optimizer needs its slots before last.keras can fill them.
            model.optimizer.build(model.trainable_variables)
            model.load_weights(self.run_dir / LAST_MODEL)
        else:
            _load_layer_weights(model, best_path)

    def _finish_stage(self, model: keras.Model, stage: Stage, best_path: Path) -> None:
        """Record the stage's best accuracy and start the next stage from the best weights."""
        state = self.state
        accs = [r["val_accuracy"] for r in self.history
                if r["stage_index"] == stage.index and r["val_accuracy"] is not None]
        state.cycle_val_accs.append(max(accs, default=0.0))
        if best_path.exists():
            _load_layer_weights(model, best_path)
        else:
            # No epoch ever had a finite val loss: keep what we have as "best".
            model.save_weights(best_path)
        state.stage_index, state.epoch, state.weights = stage.index + 1, 0, "best"
        state.save(self.run_dir)

    def add_seconds(self, name: str, started: float) -> None:
        seconds = self.state.stage_seconds
        seconds[name] = round(seconds.get(name, 0.0) + time.monotonic() - started, 3)

    def report(self, stage: str, epoch: int) -> Callable[[int, int], None]:
        """A (done, total) progress hook for feature passes that also polls cancel()."""
        def hook(done: int, total: int | None) -> None:
            if self.cancel is not None and self.cancel():
                raise TrainingCancelled(f"{stage} was cancelled")
            if self.progress is not None:
                self.progress(stage=stage, epoch=epoch, step=done, total_steps=total,
                              loss=None, metrics={})
        return hook


def _train_end_to_end(run: _Run) -> None:
    """'fixed' or 'gradual_unfreeze': images through the whole model every epoch."""
    cfg, data = run.config, run.data
    n_classes = data.n_classes
    train_x, train_y, _ = data.subset("train")
    val_x, val_y, _ = data.subset("val")
    # Rarer classes are augmented harder (section 3.1).
    strengths = class_strengths(np.bincount(train_y, minlength=n_classes), cfg.augment)
    train_ds = make_dataset(train_x, train_y, n_classes=n_classes, batch_size=cfg.batch_size,
                            training=True, augment=cfg.augment, strengths=strengths,
                            image_size=cfg.image_size, seed=cfg.seed)
    val_ds = make_dataset(val_x, val_y, n_classes=n_classes, batch_size=cfg.batch_size,
                          image_size=cfg.image_size)
    # A resumed run loads its own weights: no need to fetch the pretrained ones.
    weights = cfg.weights if run.state.weights == "none" else "none"
    model = build_model(cfg.backbone, n_classes, cfg.image_size, weights=weights,
                        saliency=cfg.saliency, head=cfg.head, saliency_cfg=cfg.saliency_cfg,
                        weights_cache_dir=run.weights_cache)
    best = run.run_dir / BEST_WEIGHTS
    if cfg.schedule == "fixed":
        stage = Stage(0, "fine_tune", 0, cfg.epochs, cfg.trainable_top_layers, cfg.learning_rate)
        run.fit_stage(model, stage, train_ds, val_ds, best)
        return
    plan = unfreeze_plan(len(base_layers(model)), cfg.unfreeze_step, cfg.max_cycles)
    for cycle, n_top in enumerate(plan):
        stage = Stage(cycle, "frozen" if cycle == 0 else f"cycle_{cycle}", cycle,
                      cfg.initial_epochs if cycle == 0 else cfg.cycle_epochs, n_top,
                      cycle_learning_rate(cfg.learning_rate, cycle, cfg.cycle_lr_decay))
        run.fit_stage(model, stage, train_ds, val_ds, best)
        if should_stop(run.state.cycle_val_accs, cfg.max_stale_cycles):
            break


def _train_on_features(run: _Run) -> None:
    """'frozen_features': cached backbone features or dlib descriptors, then the head."""
    cfg, data = run.config, run.data
    spec = get_backbone(cfg.backbone)
    n_classes = data.n_classes
    train_x, train_y, train_rows = data.subset("train")
    val_x, val_y, val_rows = data.subset("val")
    strengths = class_strengths(np.bincount(train_y, minlength=n_classes), cfg.augment)
    started = time.monotonic()
    if spec.input_kind == "descriptor":
        extractor = None
        featurize = descriptor_featurizer(cfg, data, strengths, run.cache, run.report)
    else:
        extractor = feature_extractor(cfg.backbone, cfg.image_size, cfg.weights,
                                      weights_cache_dir=run.weights_cache)
        featurize = image_featurizer(cfg, data, extractor, strengths, run.cache, run.report,
                                     run.cancel)
    # Pass 0 is the clean train split; each later pass is one augmented copy.
    train_f = np.concatenate([featurize(train_x, train_y, train_rows, "train", p)
                              for p in range(cfg.feature_passes)])
    train_labels = np.tile(train_y, cfg.feature_passes)
    val_f = featurize(val_x, val_y, val_rows, "val", 0)
    run.add_seconds("features", started)

    head = (feature_head(train_f.shape[1], n_classes, cfg.head) if extractor is not None
            else build_model(cfg.backbone, n_classes, cfg.image_size, weights="none",
                             saliency="none", head=cfg.head))
    train_ds = feature_dataset(train_f, train_labels, n_classes, cfg.batch_size, cfg.seed)
    val_ds = feature_dataset(val_f, val_y, n_classes, cfg.batch_size, None)
    stage = Stage(0, "head", 0, cfg.epochs, KEEP, cfg.learning_rate)
    # An image run's final weights are the composed model's; the head checkpoints alone.
    best = run.run_dir / (HEAD_WEIGHTS if extractor is not None else BEST_WEIGHTS)
    run.fit_stage(head, stage, train_ds, val_ds, best)
    if extractor is not None:
        compose(extractor, head).save_weights(run.run_dir / BEST_WEIGHTS)


def _load_layer_weights(model: keras.Model, path: Path) -> None:
    """Load a checkpoint's layer weights; its optimizer slots (from another stage's
    trainable set) are skipped on purpose, so Keras's warning about them is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model.load_weights(path)


def _number(value: Any) -> float | None:
    """A JSON-safe float (None for missing or non-finite values)."""
    if value is None:
        return None
    value = float(np.asarray(value))
    return value if np.isfinite(value) else None
