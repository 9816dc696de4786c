"""Ensembles of member models (paper 3.3, "Ensemble"): averaging and a meta-model.

The meta-model is a dense network on the members' concatenated class
probabilities: a 512-unit layer, then layers halving in width, then a softmax.
Its hyperparameters (units, layers, dropout, learning rate) come from a random
search of 20 trials picked by validation accuracy.

No test data reaches the meta-model: every function here that fits takes only
the members' *validation* predictions. The search scores a trial by stratified
k-fold cross-validation inside the validation set (fit on k-1 folds, accuracy on
the held-out fold, averaged), and the chosen config is then refit on the whole
validation set. Test predictions only ever go through `ensemble_predict`.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from backend.params import InvalidParameterError, check_choice, check_float, check_int

ENSEMBLE_FILE = "ensemble.json"
META_WEIGHTS = "meta.weights.h5"
# Each validation face's meta probabilities from a meta-model fit without it.
OUT_OF_FOLD_FILE = "val_out_of_fold.npy"
N_FOLDS = 3  # k of the search's k-fold cross-validation inside the validation set
METHODS = ("average", "meta")
# The random search space (paper: units, layers, dropout, learning rate).
UNITS = (64, 128, 256, 512, 1024)
LAYERS = (1, 2, 3, 4)
DROPOUT = (0.0, 0.5)  # uniform range
LEARNING_RATE = (1e-4, 1e-2)  # log-uniform range


@dataclass(frozen=True)
class MetaConfig:
    """The meta-model's shape and training."""

    units: int = 512  # first dense layer (paper); each next layer halves
    layers: int = 3  # dense layers before the softmax
    dropout: float = 0.3  # dropout after each dense layer
    learning_rate: float = 1e-3  # Adam
    epochs: int = 60  # full passes over the validation predictions (small: ~1k rows)
    batch_size: int = 32  # rows per step

    def __post_init__(self) -> None:
        func = "MetaConfig"
        for name, low in (("units", 1), ("layers", 1), ("epochs", 1), ("batch_size", 1)):
            object.__setattr__(self, name, check_int(getattr(self, name), param=name, func=func,
                                                     low=low))
        object.__setattr__(self, "dropout", check_float(self.dropout, param="dropout", func=func,
                                                        low=0.0, high=0.95))
        object.__setattr__(self, "learning_rate", check_float(
            self.learning_rate, param="learning_rate", func=func, low=1e-8))


def average_probs(probs_list: Sequence[np.ndarray]) -> np.ndarray:
    """The members' probabilities averaged: the paper's first, simple ensemble."""
    stacked = np.stack(_check_members(probs_list, "probs_list", "average_probs"))
    return stacked.mean(axis=0).astype(np.float32)


def build_meta_model(n_features: int, n_classes: int, cfg: MetaConfig = MetaConfig()):
    """Dense(units) -> Dense(units/2) -> ... (cfg.layers layers, dropout after each) -> softmax."""
    import keras

    n_features = check_int(n_features, param="n_features", func="build_meta_model", low=1)
    n_classes = check_int(n_classes, param="n_classes", func="build_meta_model", low=2)
    inputs = keras.Input((n_features,), name="member_probs")
    x = inputs
    for i in range(cfg.layers):
        # Halve the width each layer, but never below the number of classes.
        x = keras.layers.Dense(max(cfg.units // 2 ** i, n_classes), activation="relu",
                               name=f"meta_dense{i + 1}")(x)
        x = keras.layers.Dropout(cfg.dropout, name=f"meta_dropout{i + 1}")(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", dtype="float32",
                                 name="predictions")(x)
    return keras.Model(inputs, outputs, name="meta_model")


class SearchCancelled(RuntimeError):
    """The random search stopped because its cancel check asked it to."""


def random_search(val_probs: Sequence[np.ndarray], val_labels: Sequence[int], *,
                  n_trials: int = 20, seed: int = 0, n_folds: int = N_FOLDS,
                  base: MetaConfig = MetaConfig(),
                  progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None) -> tuple[MetaConfig, list[dict]]:
    """Pick the meta-model config by k-fold accuracy on the validation predictions.

    Trial 0 is `base` (the paper's 512/3 layers); the others draw units, layers,
    dropout and learning rate at random. Returns (best config, one dict per trial
    with the config, the fold accuracies and their mean `cv_accuracy`).
    """
    func = "random_search"
    n_trials = check_int(n_trials, param="n_trials", func=func, low=1)
    n_folds = check_int(n_folds, param="n_folds", func=func, low=2)
    features, labels, n_classes = _meta_inputs(val_probs, val_labels, func)
    rng = np.random.default_rng(seed)
    folds = _folds(labels, n_folds, seed)
    trials = []
    for trial in range(n_trials):
        if progress is not None:
            progress(trial, n_trials)
        cfg = base if trial == 0 else _draw(rng, base)
        accs = []
        for train_idx, test_idx in folds:
            # A search of 20 trials x k folds can take minutes: stop between fits.
            if cancel is not None and cancel():
                raise SearchCancelled(f"random search cancelled at trial {trial + 1}/{n_trials}")
            accs.append(_fold_accuracy(features, labels, n_classes, cfg, train_idx, test_idx,
                                       seed))
        trials.append({"trial": trial, **asdict(cfg), "fold_accuracies": accs,
                       "cv_accuracy": float(np.mean(accs))})
    # First best wins a tie: the paper's config is preferred when nothing beats it.
    best = max(range(n_trials), key=lambda t: (trials[t]["cv_accuracy"], -t))
    return _config_of(trials[best], base), trials


def fit_meta(val_probs: Sequence[np.ndarray], val_labels: Sequence[int],
             cfg: MetaConfig = MetaConfig(), seed: int = 0):
    """The meta-model trained on all of the members' validation predictions."""
    features, labels, n_classes = _meta_inputs(val_probs, val_labels, "fit_meta")
    return _fit(features, labels, n_classes, cfg, seed)


def out_of_fold_probs(val_probs: Sequence[np.ndarray], val_labels: Sequence[int],
                      cfg: MetaConfig = MetaConfig(), *, seed: int = 0,
                      n_folds: int = N_FOLDS) -> np.ndarray:
    """(N, C): each validation face's probabilities from a meta-model with `cfg` fit on
    the other folds (the search's folds). The refit model has seen every validation
    face, so its own validation probabilities are too sure of themselves: these are
    what a fair temperature is fitted on."""
    features, labels, n_classes = _meta_inputs(val_probs, val_labels, "out_of_fold_probs")
    out = np.zeros((len(labels), n_classes), dtype=np.float32)
    for train_idx, test_idx in _folds(labels, n_folds, seed):
        model = _fit(features[train_idx], labels[train_idx], n_classes, cfg, seed)
        out[test_idx] = model.predict(features[test_idx], verbose=0)
    return out


def saved_out_of_fold(run_dir: str | os.PathLike) -> np.ndarray | None:
    """The out-of-fold validation probabilities saved with a meta ensemble, or None
    (an averaging ensemble, or one saved before they were kept)."""
    path = Path(run_dir) / OUT_OF_FOLD_FILE
    return np.load(path) if path.is_file() else None


def save_ensemble(run_dir: str | os.PathLike, *, members: Sequence[str], n_classes: int,
                  model=None, cfg: MetaConfig | None = None,
                  trials: list[dict] | None = None,
                  out_of_fold: np.ndarray | None = None) -> Path:
    """Write ensemble.json (members, method, config, trials), meta.weights.h5 and the
    out-of-fold validation probabilities, if any.

    model=None saves an averaging ensemble.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    n_classes = check_int(n_classes, param="n_classes", func="save_ensemble", low=2)
    method = "average" if model is None else "meta"
    if model is not None:
        model.save_weights(run_dir / META_WEIGHTS)
    if out_of_fold is not None:
        np.save(run_dir / OUT_OF_FOLD_FILE, np.asarray(out_of_fold, dtype=np.float32))
    info = {"method": method, "members": [str(m) for m in members], "n_classes": n_classes,
            "meta_config": asdict(cfg) if cfg is not None and model is not None else None,
            "trials": trials or [],
            "meta_fit_on": "validation predictions only (k-fold search, then refit on all)"}
    (run_dir / ENSEMBLE_FILE).write_text(json.dumps(info, indent=2))
    return run_dir


def load_ensemble(run_dir: str | os.PathLike) -> tuple[Any, dict]:
    """(meta-model or None for averaging, the ensemble.json contents)."""
    run_dir = Path(run_dir)
    info = json.loads((run_dir / ENSEMBLE_FILE).read_text())
    check_choice(info.get("method"), METHODS, param="method", func="load_ensemble")
    if info["method"] == "average":
        return None, info
    n_features = len(info["members"]) * info["n_classes"]
    model = build_meta_model(n_features, info["n_classes"], MetaConfig(**info["meta_config"]))
    model.load_weights(run_dir / META_WEIGHTS)
    return model, info


def ensemble_predict(run_dir: str | os.PathLike, member_probs: Sequence[np.ndarray]) -> np.ndarray:
    """The saved ensemble's probabilities for new member predictions (e.g. the test set),
    members in the order they were saved."""
    model, info = load_ensemble(run_dir)
    probs = _check_members(member_probs, "member_probs", "ensemble_predict")
    if len(probs) != len(info["members"]) or probs[0].shape[1] != info["n_classes"]:
        raise InvalidParameterError(
            "member_probs", "ensemble_predict",
            f"{len(info['members'])} arrays of {info['n_classes']} class probabilities "
            f"(members {info['members']})",
            f"{len(probs)} arrays of {probs[0].shape[1]} classes")
    if model is None:
        return average_probs(probs)
    features = np.concatenate(probs, axis=1)
    return np.asarray(model.predict(features, verbose=0), dtype=np.float32)


def ensemble_predictor(run_dir: str | os.PathLike,
                       member_fns: Sequence[Callable[[np.ndarray], np.ndarray]]):
    """The saved ensemble as one function from images to probabilities, given each
    member as such a function (in the saved order): the meta-model is loaded once."""
    model, info = load_ensemble(run_dir)
    if len(member_fns) != len(info["members"]):
        raise InvalidParameterError("member_fns", "ensemble_predictor",
                                    f"{len(info['members'])} functions (members "
                                    f"{info['members']})", len(member_fns))

    def predict(images: np.ndarray) -> np.ndarray:
        probs = _check_members([f(images) for f in member_fns], "member_fns", "ensemble_predictor")
        if model is None:
            return average_probs(probs)
        return np.asarray(model(np.concatenate(probs, axis=1), training=False), np.float32)
    return predict


def _check_members(probs_list: Sequence[np.ndarray], param: str, func: str) -> list[np.ndarray]:
    """2-D float arrays with the same number of rows and of classes."""
    arrays = [np.asarray(p, dtype=np.float32) for p in probs_list]
    if not arrays:
        raise InvalidParameterError(param, func, "a non-empty list of (N, C) arrays", probs_list)
    for i, array in enumerate(arrays):
        if array.ndim != 2:
            raise InvalidParameterError(param, func, "(N, C) probability arrays",
                                        f"member {i} with shape {array.shape}")
    shapes = [a.shape for a in arrays]
    if len({s[1] for s in shapes}) > 1:
        # Members trained on different class schemes cannot be combined.
        raise InvalidParameterError(
            param, func, "members sharing one class scheme (the same number of classes)",
            f"class counts {[s[1] for s in shapes]}")
    if len({s[0] for s in shapes}) > 1:
        raise InvalidParameterError(param, func, "predictions for the same images (same rows)",
                                    f"row counts {[s[0] for s in shapes]}")
    return arrays


def _meta_inputs(val_probs, val_labels, func: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(concatenated member probabilities, int labels, n_classes)."""
    arrays = _check_members(val_probs, "val_probs", func)
    labels = np.asarray(val_labels, dtype=np.int64)
    n_classes = arrays[0].shape[1]
    if labels.shape != (arrays[0].shape[0],) or labels.min(initial=0) < 0 \
            or labels.max(initial=0) >= n_classes:
        raise InvalidParameterError("val_labels", func,
                                    f"{arrays[0].shape[0]} class indices in [0, {n_classes - 1}]",
                                    f"shape {labels.shape}")
    return np.concatenate(arrays, axis=1), labels, n_classes


def _folds(labels: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds when every class can fill them, else plain shuffled folds."""
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(labels)
    if counts[counts > 0].min() >= n_folds:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        return list(splitter.split(labels, labels))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(labels))


def _draw(rng: np.random.Generator, base: MetaConfig) -> MetaConfig:
    """One random point of the search space."""
    return replace(base, units=int(rng.choice(UNITS)), layers=int(rng.choice(LAYERS)),
                   dropout=round(float(rng.uniform(*DROPOUT)), 3),
                   learning_rate=float(10 ** rng.uniform(*np.log10(LEARNING_RATE))))


def _config_of(trial: dict, base: MetaConfig) -> MetaConfig:
    return replace(base, **{k: trial[k] for k in ("units", "layers", "dropout", "learning_rate")})


def _fold_accuracy(features, labels, n_classes, cfg, train_idx, test_idx, seed) -> float:
    """Accuracy on one held-out fold of a model fit on the other folds."""
    model = _fit(features[train_idx], labels[train_idx], n_classes, cfg, seed)
    probs = model.predict(features[test_idx], verbose=0)
    return float(np.mean(probs.argmax(axis=1) == labels[test_idx]))


def _fit(features: np.ndarray, labels: np.ndarray, n_classes: int, cfg: MetaConfig, seed: int):
    """A seeded meta-model trained for cfg.epochs on (features, labels)."""
    import keras

    # Same seed, same start: trials differ by their config only.
    keras.utils.set_random_seed(seed)
    model = build_meta_model(features.shape[1], n_classes, cfg)
    # Many tiny steps: run 64 per call so Python overhead does not dominate the search.
    model.compile(optimizer=keras.optimizers.Adam(cfg.learning_rate),
                  loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=64)
    onehot = np.eye(n_classes, dtype=np.float32)[labels]
    model.fit(features, onehot, epochs=cfg.epochs, batch_size=cfg.batch_size, shuffle=True,
              verbose=0)
    return model
