"""Use a finished run folder: rebuild its model and predict class probabilities."""
from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from backend.data.augment import to_greyscale
from backend.data.classes import ClassScheme
from backend.data.input_pipeline import make_dataset
from backend.models.build import build_model, feature_extractor
from backend.models.registry import get_backbone
from backend.params import check_bool, check_int
from backend.training.config import TrainConfig
from backend.training.features import compose, feature_head
from backend.training.trainer import BEST_WEIGHTS


def load_run_config(run_dir: str | os.PathLike) -> tuple[TrainConfig, int]:
    """(the run's TrainConfig, its number of classes) from config.json and scheme.json."""
    run_dir = Path(run_dir)
    config = TrainConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    scheme = ClassScheme.from_dict(json.loads((run_dir / "scheme.json").read_text()))
    return config, scheme.n_classes


def build_run_model(config: TrainConfig, n_classes: int) -> keras.Model:
    """The architecture a run of `config` saves in best.weights.h5, with random weights."""
    spec = get_backbone(config.backbone)
    if config.schedule != "frozen_features" or spec.input_kind == "descriptor":
        # weights='none': the run's own weights are loaded next, nothing to fetch.
        return build_model(config.backbone, n_classes, config.image_size, weights="none",
                           saliency=config.saliency, head=config.head,
                           saliency_cfg=config.saliency_cfg)
    extractor = feature_extractor(config.backbone, config.image_size, "none")
    head = feature_head(int(extractor.output_shape[-1]), n_classes, config.head)
    return compose(extractor, head)


def load_run_model(run_dir: str | os.PathLike) -> keras.Model:
    """The trained model of a run folder: rebuilt from config.json, best weights loaded."""
    config, n_classes = load_run_config(run_dir)
    model = build_run_model(config, n_classes)
    model.load_weights(Path(run_dir) / BEST_WEIGHTS)
    return model


def predict_probs(run_dir: str | os.PathLike, images: np.ndarray, *, greyscale: bool = False,
                  batch_size: int = 64, cache_dir: str | os.PathLike | None = None,
                  tta: bool | None = None) -> np.ndarray:
    """Class probabilities (N, C) float32 of uint8 face crops (N, S, S, 3).

    Image members resize the crops to their image size; dlib_face computes (and
    caches under cache_dir/descriptors) the crops' descriptors first. greyscale=True
    predicts on grey copies, for the greyscale-robustness metric. tta (None: the run's
    config.tta) averages the probabilities of each crop and its left-right mirror.
    """
    greyscale = check_bool(greyscale, param="greyscale", func="predict_probs")
    batch_size = check_int(batch_size, param="batch_size", func="predict_probs", low=1)
    config, n_classes = load_run_config(run_dir)
    tta = config.tta if tta is None else check_bool(tta, param="tta", func="predict_probs")
    model = load_run_model(run_dir)
    if get_backbone(config.backbone).input_kind == "descriptor":
        from backend.models.dlib_face import face_descriptors

        crops = to_greyscale(np.asarray(images)) if greyscale else np.asarray(images)
        cache = Path(cache_dir) / "descriptors" if cache_dir is not None else None
        views = [crops] + ([np.ascontiguousarray(crops[:, :, ::-1])] if tta else [])
        # TensorFlow idles while dlib runs: use the cores for dlib.
        workers = max(1, min(4, os.cpu_count() or 1))
        probs = [model.predict(face_descriptors(view, cache_dir=cache, workers=workers),
                               batch_size=batch_size, verbose=0) for view in views]
        return np.mean(probs, axis=0).astype(np.float32)
    # Labels are unused by prediction; make_dataset wants some.
    ds = make_dataset(images, np.zeros(len(images), np.int64), n_classes=n_classes,
                      batch_size=batch_size, image_size=config.image_size, greyscale=greyscale)
    views = [ds.map(lambda x, y: x)]
    if tta:
        views.append(ds.map(lambda x, y: tf.image.flip_left_right(x)))
    probs = [np.asarray(model.predict(view, verbose=0), np.float32).reshape(len(images), n_classes)
             for view in views]
    return np.mean(probs, axis=0).astype(np.float32)


def run_predictor(run_dir: str | os.PathLike):
    """The run's model as one function from float32 (B, S, S, 3) images in [0, 1], at
    any side S, to class probabilities (B, C): what occlusion sensitivity perturbs.

    Image members resize to their image size; dlib_face computes each image's
    descriptor (uncached: perturbed copies are never seen twice) and applies its head.
    The model is loaded once, here.
    """
    import tensorflow as tf

    config, _ = load_run_config(run_dir)
    model = load_run_model(run_dir)
    if get_backbone(config.backbone).input_kind == "descriptor":
        from backend.models.dlib_face import face_descriptors

        def describe_and_predict(x: np.ndarray) -> np.ndarray:
            crops = np.clip(np.rint(np.asarray(x) * 255.0), 0, 255).astype(np.uint8)
            return np.asarray(model(face_descriptors(crops), training=False), np.float32)
        return describe_and_predict

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if x.shape[1] != config.image_size:
            # As the input pipeline does: antialiased only when shrinking.
            x = tf.clip_by_value(tf.image.resize(x, [config.image_size] * 2,
                                                 antialias=x.shape[1] > config.image_size),
                                 0.0, 1.0)
        return np.asarray(model(x, training=False), np.float32)
    return predict
