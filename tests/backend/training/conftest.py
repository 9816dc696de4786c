"""A small synthetic prepared dataset with a learnable signal, and a tiny stand-in
backbone so the trainer's stages, callbacks and resume logic run in seconds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backend.dataset import load_prepared, write_prepared

SCHEME = {"edges": [1, 20, 40, 60], "labels": ["1-19", "20-39", "40-59"]}


def make_prepared(root: Path, n: int = 40, size: int = 32, seed: int = 0) -> Path:
    """n images whose brightness gives away their class; 60/20/20 train/val/test."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    brightness = 40 + 80 * labels  # class 0 dark, class 2 bright
    noise = rng.normal(0, 10, (n, size, size, 3))
    images = np.clip(brightness[:, None, None, None] + noise, 0, 255).astype(np.uint8)
    splits = np.array(["train"] * 6 + ["val"] * 2 + ["test"] * 2)[np.arange(n) % 10]
    manifest = pd.DataFrame({
        "source_path": [f"img{i}.jpg" for i in range(n)], "crop_path": "",
        "age": np.array([10, 30, 50])[labels], "gender": np.where(np.arange(n) % 2, "F", "M"),
        "label": labels, "split": splits})
    return write_prepared(root, images, manifest, SCHEME, config={}, summary={})


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory) -> Path:
    return make_prepared(tmp_path_factory.mktemp("prepared"))


@pytest.fixture
def prepared(prepared_dir):
    return load_prepared(prepared_dir)


def tiny_build_model(backbone, n_classes, image_size, *, weights="none", saliency=None,
                     head=None, saliency_cfg=None, weights_cache_dir=None):
    """Stand-in for build_model: three 'base' layers and a dense head, same layer naming."""
    import keras
    from keras import layers

    image = keras.Input((image_size, image_size, 3), name="image")
    x = layers.Conv2D(4, 3, strides=2, activation="relu", name="base_conv1")(image)
    x = layers.Conv2D(4, 3, strides=2, activation="relu", name="base_conv2")(x)
    x = layers.GlobalAveragePooling2D(name="base_pool")(x)
    x = layers.Dense(8, activation="relu", name="head_dense1")(x)
    return keras.Model(image, layers.Dense(n_classes, activation="softmax", name="predictions")(x))


@pytest.fixture
def tiny_backbone(monkeypatch):
    """Make the trainer and runs.py build tiny_build_model instead of the real backbone."""
    import backend.training.run_folder as runs
    import backend.training.trainer as trainer

    monkeypatch.setattr(trainer, "build_model", tiny_build_model)
    monkeypatch.setattr(runs, "build_model", tiny_build_model)
