"""The 'fine_tune_top' schedule: cached lower-block outputs, the pass dataset, and a
tiny EfficientNet-Lite0 run (32 px, random weights) on the synthetic dataset."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from backend.training.config import preset_config
from backend.training.run_folder import load_run_model, predict_probs
from backend.training.top_features import cached_outputs, pass_dataset
from backend.training.trainer import train


@pytest.fixture(scope="module")
def bottom() -> keras.Model:
    """A small frozen 'lower part': images -> (4, 4, 2) maps."""
    image = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same")(image)
    return keras.Model(image, x)


def _batches(images: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(images).batch(2)


def test_cached_outputs_are_float16_and_memory_mapped(bottom, tmp_path):
    """Check that the outputs are written once as float16 and read back memory-mapped."""
    images = np.random.default_rng(0).random((5, 8, 8, 3)).astype("float32")
    out = cached_outputs(bottom, _batches(images), 5, tmp_path / "b.npy")
    assert isinstance(out, np.memmap) and out.dtype == np.float16 and out.shape == (5, 4, 4, 2)
    np.testing.assert_allclose(out, bottom.predict(images, verbose=0), rtol=1e-2, atol=1e-3)


def test_cached_outputs_are_read_not_recomputed(bottom, tmp_path):
    """Check that a second call with the file present never runs the model."""
    images = np.zeros((3, 8, 8, 3), "float32")
    first = np.array(cached_outputs(bottom, _batches(images), 3, tmp_path / "b.npy"))
    empty = tf.data.Dataset.from_tensor_slices(np.ones((3, 8, 8, 3), "float32")).batch(2)
    np.testing.assert_array_equal(cached_outputs(bottom, empty, 3, tmp_path / "b.npy"), first)
    assert [p.name for p in tmp_path.iterdir()] == ["b.npy"]


def test_pass_dataset_draws_each_image_from_some_pass():
    """Check that with a seed every row comes from one of the passes of its own image,
    and both passes are used."""
    n = 64
    clean = np.arange(n, dtype=np.float16).reshape(n, 1)
    mirror = clean + 1000
    ds = pass_dataset([clean, mirror], np.zeros(n, np.int64), 2, 16, seed=3)
    values = np.concatenate([x for x, _ in ds.as_numpy_iterator()]).ravel()
    assert sorted(values % 1000) == list(range(n))
    assert 0 < np.mean(values >= 1000) < 1


def test_pass_dataset_without_seed_reads_pass_zero_in_order():
    """Check that validation batches are pass 0, in array order, with one-hot labels."""
    clean = np.arange(6, dtype=np.float16).reshape(6, 1)
    labels = np.array([0, 1, 2, 0, 1, 2])
    batches = list(pass_dataset([clean, clean + 50], labels, 3, 4, seed=None).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]).ravel(), np.arange(6))
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]).argmax(1), labels)


def _config(**overrides):
    values = dict(schedule="fine_tune_top", feature_passes=3, mirror_pass=True, epochs=2,
                  learning_rate=1e-3, **overrides)
    return preset_config("smoke", "efficientnet_lite0", **values)


@pytest.fixture(scope="module")
def top_run(prepared_dir, tmp_path_factory):
    """One tiny fine_tune_top run, shared by the tests below."""
    from backend.dataset import load_prepared

    tmp = tmp_path_factory.mktemp("top")
    result = train(_config(), load_prepared(prepared_dir), tmp / "run", cache_dir=tmp / "cache")
    return tmp, result


def test_fine_tune_top_caches_every_pass_of_the_lower_blocks(top_run):
    """Check that the run cached three train passes and the val pass of the lower blocks."""
    tmp, _ = top_run
    names = sorted(p.name for p in (tmp / "cache" / "features").iterdir())
    assert [n.split("-")[3:5] for n in names] == [["train", "p0"], ["train", "p1"],
                                                  ["train", "p2"], ["val", "p0"]]


def test_fine_tune_top_saves_the_composed_image_model(top_run, prepared):
    """Check that the run folder rebuilds an image model whose predictions are
    predict_probs's without test-time mirroring."""
    tmp, result = top_run
    images, _, _ = prepared.subset("test")
    direct = load_run_model(tmp / "run").predict(images.astype("float32") / 255, verbose=0)
    np.testing.assert_allclose(predict_probs(tmp / "run", images, tta=False), direct,
                               rtol=1e-4, atol=1e-6)
    assert [row["stage"] for row in result.history] == ["top", "top"]


def test_same_seed_repeats_the_run(top_run, prepared, tmp_path):
    """Check that a second run with the same seed and cache repeats the losses."""
    tmp, result = top_run
    again = train(_config(), prepared, tmp_path / "run", cache_dir=tmp / "cache")
    np.testing.assert_allclose([r["loss"] for r in again.history],
                               [r["loss"] for r in result.history], rtol=1e-5)


@pytest.mark.shared_data
def test_same_seed_gives_metrics_within_half_a_point_on_real_faces(tmp_path):
    """Check on 600 real UTKFace faces that two fine_tune_top runs with one seed (and one
    feature cache) score their test split within 0.5 point of each other."""
    from backend.dataset import load_prepared
    from backend.preprocess import PreprocessConfig, prepare
    from tests.conftest import shared_data_root

    root = shared_data_root() / "utkface"
    if not root.exists():
        pytest.skip(f"real face data not found at {root} (set AGEREC_SHARED_DATA)")
    prepare(PreprocessConfig(source="utkface", path=str(root), detector="none", image_size=32,
                             limit=600, seed=5), tmp_path / "ds", tmp_path / "crops")
    data = load_prepared(tmp_path / "ds")
    images, labels, _ = data.subset("test")
    scores = []
    for name in ("a", "b"):
        train(_config(seed=5), data, tmp_path / name, cache_dir=tmp_path / "cache")
        probs = predict_probs(tmp_path / name, images)
        scores.append(float(np.mean(probs.argmax(axis=1) == labels)))
    assert abs(scores[0] - scores[1]) <= 0.005
