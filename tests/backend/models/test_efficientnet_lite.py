"""EfficientNet-Lite0's architecture and input conventions (its ImageNet weights are
tested in test_weights.py, the .pth reader in test_torch_checkpoint.py)."""
from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from backend.models import efficientnet_lite as E  # noqa: E402
from backend.params import InvalidParameterError  # noqa: E402


@pytest.fixture(scope="module")
def small_model():
    """Random weights, 64 px, no classifier."""
    return E.build_efficientnet_lite0((64, 64, 3), include_top=False, weights=None)


def test_builds_at_64px_without_top_with_the_expected_feature_map(small_model):
    assert tuple(small_model.output.shape) == (None, 2, 2, E.HEAD_FILTERS)
    out = small_model(np.zeros((1, 64, 64, 3), np.float32), training=False)
    assert tuple(out.shape) == (1, 2, 2, 1280)
    names = [layer.name for layer in small_model.layers]
    assert len(names) == len(set(names))
    for name in ("stem_conv", "block1a_dwconv", "block3a_expand_conv", "block6d_add",
                 "top_conv", "top_activation"):
        assert name in names
    assert isinstance(small_model.get_layer(E.LAST_CONV_LAYER), keras.layers.Conv2D)
    assert small_model.layers[-1].name == E.LAST_CONV_ACTIVATION
    # Lite0: 16 MBConv blocks, no squeeze-and-excitation, ReLU6 everywhere.
    assert sum(n.endswith("_project_conv") for n in names) == 16
    assert not any("se_" in n for n in names)
    relus = [layer for layer in small_model.layers if isinstance(layer, keras.layers.ReLU)]
    assert relus and all(float(layer.max_value) == 6.0 for layer in relus)


def test_built_on_an_input_tensor_its_layers_join_the_outer_graph_flat():
    inp = keras.Input((64, 64, 3), name="face")
    x = keras.layers.Conv2D(3, 1, name="saliency_mix")(inp)
    base = E.build_efficientnet_lite0(input_tensor=x, include_top=False)
    out = keras.layers.GlobalAveragePooling2D(name="pool")(base.output)
    outer = keras.Model(inp, out)
    names = [layer.name for layer in outer.layers]
    assert {"face", "saliency_mix", "stem_conv", "top_conv", "pool"} <= set(names)
    assert not any(isinstance(layer, keras.Model) for layer in outer.layers)
    assert names.index("saliency_mix") < names.index("stem_conv")
    assert outer.get_layer(E.LAST_CONV_LAYER) is base.get_layer(E.LAST_CONV_LAYER)
    assert tuple(outer(np.zeros((2, 64, 64, 3), np.float32)).shape) == (2, 1280)


@pytest.mark.parametrize("kwargs, param", [
    ({"weights": "imagenet"}, "weights"),
    ({"weights": "/no/such/file.weights.h5"}, "weights"),
    ({"classes": 0}, "classes"),
    ({"include_top": "maybe"}, "include_top"),
    ({"input_shape": (16, 16, 3)}, "input_shape"),
    ({"input_shape": (224, 224)}, "input_shape"),
    ({"input_tensor": np.zeros((1, 64, 64, 3))}, "input_tensor"),
])
def test_bad_parameters_are_named(kwargs, param):
    with pytest.raises(InvalidParameterError) as info:
        E.build_efficientnet_lite0(**kwargs)
    assert info.value.param == param
    assert param in str(info.value)


def test_preprocess_input_maps_0_255_with_the_original_mean_and_std():
    out = E.preprocess_input(np.array([0, 127, 255], np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [-127 / 128, 0.0, 1.0])
    as_tensor = E.preprocess_input(keras.ops.convert_to_tensor([[255.0]]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(as_tensor), [[1.0]])


def test_center_crop_resize_and_decode_top1():
    img = np.random.default_rng(0).integers(0, 256, (300, 451, 3), dtype=np.uint8)
    assert E.center_crop_resize(img).shape == (224, 224, 3)
    assert E.center_crop_resize(img[:, :, 0], size=32).shape == (32, 32, 1)
    logits = np.zeros(1000)
    logits[283] = 5
    assert E.decode_top1(logits) == 283
    assert E.decode_top1(logits[None]) == 283
    with pytest.raises(InvalidParameterError, match="logits"):
        E.decode_top1(np.zeros((2, 1000)))
