"""Tests for build_model, base_layers, set_base_trainable and feature_extractor."""
from __future__ import annotations

import re
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from backend.models import weights as weights_mod
from backend.models.build import (base_layers, build_model, count_trainable_base_layers,
                                  feature_extractor, set_base_trainable, split_at_block)
from backend.models.head import HeadConfig
from backend.models.registry import get_backbone
from backend.models.saliency import SaliencyConfig
from backend.models.weights import WeightsUnavailableError, efficientnet_imagenet_weights
from backend.params import InvalidParameterError

pytestmark = pytest.mark.slow  # building ResNet152V2 takes tens of seconds on 2 cores

SIZE = 32  # the smallest size every backbone builds at
HEAD = HeadConfig(conv_filters=8, dense_units=(16,))
SAL = SaliencyConfig(filters=(4, 8))
# (backbone, n_classes, saliency): each backbone with 5 and 8 classes, with and without saliency.
CASES = [(b, n, s) for b in ("vgg19", "resnet152v2", "efficientnet_lite0")
         for n, s in ((5, "map"), (8, "none"))] + [("vgg19", 5, "gate")]


@pytest.fixture(scope="module")
def built():
    """Build each (backbone, n_classes, saliency) once per module: ResNet152V2 is slow."""
    cache: dict[tuple, keras.Model] = {}

    def get(backbone: str, n_classes: int = 5, saliency: str = "map") -> keras.Model:
        if backbone == "efficientnet_lite0":
            pytest.importorskip("backend.models.efficientnet_lite")
        key = (backbone, n_classes, saliency)
        if key not in cache:
            cache[key] = build_model(backbone, n_classes, SIZE, saliency=saliency, head=HEAD,
                                     saliency_cfg=SAL)
        return cache[key]

    return get


def _images(n: int = 2) -> np.ndarray:
    return np.random.default_rng(0).random((n, SIZE, SIZE, 3), dtype=np.float32)


@pytest.mark.parametrize("backbone,n_classes,saliency", CASES)
def test_model_outputs_class_probabilities(built, backbone, n_classes, saliency):
    """Check that the model maps [0, 1] images to (B, n_classes) probabilities summing to 1."""
    probs = built(backbone, n_classes, saliency).predict(_images(), verbose=0)
    assert probs.shape == (2, n_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("backbone,n_classes,saliency", CASES)
def test_input_is_a_float_image_named_image(built, backbone, n_classes, saliency):
    """Check that the model's input is float32 (B, S, S, 3) named 'image'."""
    model = built(backbone, n_classes, saliency)
    assert (model.inputs[0].name, tuple(model.input.shape), model.input.dtype) == (
        "image", (None, SIZE, SIZE, 3), "float32")


@pytest.mark.parametrize("backbone,n_classes,saliency", CASES)
def test_saliency_map_present_only_with_saliency(built, backbone, n_classes, saliency):
    """Check that a saliency_map layer exists exactly when saliency is 'map' or 'gate'."""
    names = {layer.name for layer in built(backbone, n_classes, saliency).layers}
    assert ("saliency_map" in names) == (saliency != "none")


@pytest.mark.parametrize("backbone", ["vgg19", "resnet152v2", "efficientnet_lite0"])
def test_gradcam_reaches_last_conv_layer_through_saliency(built, backbone):
    """Check that the class score has a non-zero gradient at the registry's last conv layer."""
    model = built(backbone, 5, "map")
    conv = model.get_layer(get_backbone(backbone).last_conv_layer)
    grad_model = keras.Model(model.input, [conv.output, model.output])
    with tf.GradientTape() as tape:
        maps, probs = grad_model(_images(1))
        score = probs[:, 0]
    grads = tape.gradient(score, maps)
    assert grads is not None and float(tf.reduce_sum(tf.abs(grads))) > 0


@pytest.mark.parametrize("backbone", ["vgg19", "resnet152v2", "efficientnet_lite0"])
def test_preprocess_layer_is_named_after_the_backbone(built, backbone):
    """Check that exactly one preprocess_<backbone> layer sits between the image and the base."""
    names = [layer.name for layer in built(backbone, 8, "none").layers]
    assert [n for n in names if n.startswith("preprocess_")] == [f"preprocess_{backbone}"]
    assert names.index(f"preprocess_{backbone}") == 1


@pytest.mark.parametrize("backbone,expected", [
    ("vgg19", keras.applications.vgg19.preprocess_input),
    ("resnet152v2", keras.applications.resnet_v2.preprocess_input),
])
def test_preprocessing_matches_keras_applications(built, backbone, expected):
    """Check that the preprocess layer on [0, 1] equals Keras's preprocess_input on [0, 255]."""
    x = _images()
    layer = built(backbone, 8, "none").get_layer(f"preprocess_{backbone}")
    np.testing.assert_allclose(np.asarray(layer(x)), expected(x * 255.0), rtol=1e-5, atol=1e-3)


def test_efficientnet_preprocessing_matches_its_builder(built):
    """Check that the efficientnet preprocess layer equals its preprocess_input on [0, 255]."""
    module = pytest.importorskip("backend.models.efficientnet_lite")
    x = _images()
    layer = built("efficientnet_lite0", 8, "none").get_layer("preprocess_efficientnet_lite0")
    np.testing.assert_allclose(np.asarray(layer(x)), module.preprocess_input(x * 255.0), rtol=1e-5,
                               atol=1e-4)


@pytest.mark.parametrize("backbone,app", [
    ("vgg19", keras.applications.VGG19),
    ("resnet152v2", keras.applications.ResNet152V2),
])
def test_base_layers_are_the_backbone_layers_in_order(built, backbone, app):
    """Check that base_layers lists the standalone backbone's layers, in its order, and no others."""
    standalone = app(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    # Auto-named layers (max_pooling2d_3) get a fresh suffix per build: drop it.
    names = lambda layers: [re.sub(r"_\d+$", "", layer.name) for layer in layers]  # noqa: E731
    assert names(base_layers(built(backbone, 5, "map"))) == names(standalone.layers[1:])


def test_random_weights_leave_the_whole_base_trainable(built):
    """Check that with weights='none' every vgg19 base layer trains (no frozen random layers)."""
    model = built("vgg19", 8, "none")
    assert count_trainable_base_layers(model) == len(base_layers(model)) == 21


def test_vgg19_top8_unfreezes_its_last_eight_layers(built):
    """Check that set_base_trainable(vgg19, 8) leaves exactly the last 8 base layers trainable."""
    model = built("vgg19", 5, "gate")
    set_base_trainable(model, 8)
    trainable = [layer.name for layer in base_layers(model) if layer.trainable]
    assert trainable == ["block4_conv3", "block4_conv4", "block4_pool", "block5_conv1",
                         "block5_conv2", "block5_conv3", "block5_conv4", "block5_pool"]


def test_resnet_unfreezing_cycles_add_ten_layers(built):
    """Check that the paper's ResNet cycles (0, 10, 20, 30, 40 top layers) give those counts."""
    model = built("resnet152v2", 5, "map")
    counts = []
    for n_top in (0, 10, 20, 30, 40):
        set_base_trainable(model, n_top)
        counts.append(count_trainable_base_layers(model))
    assert counts == [0, 10, 20, 30, 40]


def test_set_base_trainable_leaves_saliency_and_head_trainable(built):
    """Check that freezing the whole base keeps the saliency and head layers trainable."""
    model = built("vgg19", 5, "gate")
    set_base_trainable(model, 0)
    ours = [layer for layer in model.layers
            if layer.name.startswith(("saliency_", "head_")) or layer.name == "predictions"]
    assert ours and all(layer.trainable for layer in ours)


@pytest.mark.parametrize("n_top", [None, "all"])
def test_set_base_trainable_all_unfreezes_everything(built, n_top):
    """Check that n_top None or 'all' makes every base layer trainable."""
    model = built("vgg19", 5, "gate")
    set_base_trainable(model, 0)
    set_base_trainable(model, n_top)
    assert count_trainable_base_layers(model) == len(base_layers(model))


def test_set_base_trainable_rejects_more_layers_than_the_base_has(built):
    """Check that n_top above the number of base layers raises an error naming the bound."""
    with pytest.raises(InvalidParameterError, match=r"'n_top'.*\[0, 21\]. Got 22"):
        set_base_trainable(built("vgg19", 5, "gate"), 22)


def test_frozen_batchnorm_runs_in_inference_mode(built):
    """Check that a frozen base BatchNormalization gives the same output with training=True or False."""
    model = built("resnet152v2", 8, "none")
    bn = model.get_layer("conv2_block1_preact_bn")
    x = np.random.default_rng(1).normal(3.0, 2.0, (4, 8, 8, bn.gamma.shape[0])).astype(np.float32)
    set_base_trainable(model, "all")
    # Control: a trainable BN normalises with the batch's own statistics when training.
    assert not np.allclose(bn(x, training=True), bn(x, training=False))
    set_base_trainable(model, 0)
    np.testing.assert_array_equal(bn(x, training=True), bn(x, training=False))


def test_pretrained_file_loads_by_name_and_vgg19_defaults_to_top8(tmp_path):
    """Check that a backbone weights file lands in the base layers and vgg19 then trains its top 8."""
    reference = keras.applications.VGG19(include_top=False, weights=None, input_shape=(SIZE, SIZE, 3))
    path = tmp_path / "vgg19_notop.weights.h5"
    reference.save_weights(path)
    model = build_model("vgg19", 5, SIZE, weights=str(path), head=HEAD, saliency_cfg=SAL)
    for name in ("block1_conv1", "block5_conv4"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0],
                                      reference.get_layer(name).get_weights()[0])
    assert count_trainable_base_layers(model) == 8


def test_model_saves_and_loads_with_its_preprocess_layer(built, tmp_path):
    """Check that a .keras round trip (custom preprocess layer included) predicts the same."""
    model = built("vgg19", 5, "gate")
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = _images()
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_dlib_face_model_takes_a_descriptor():
    """Check that dlib_face builds a (B, 128) 'descriptor' input followed only by the dense head."""
    model = build_model("dlib_face", 5, 128, head=HEAD)
    assert (model.inputs[0].name, tuple(model.input.shape)) == ("descriptor", (None, 128))
    assert [layer.name for layer in model.layers[1:]] == ["head_dense1", "head_dropout1", "predictions"]


def test_dlib_face_refuses_a_saliency_front_end():
    """Check that asking dlib_face for saliency raises an error naming the only choice."""
    with pytest.raises(InvalidParameterError, match=r"'saliency'.*\{'none'\}. Got 'map'"):
        build_model("dlib_face", 5, 128, saliency="map")


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(backbone="vgg"), r"'backbone' parameter of build_model must be one of \{'vgg19', "
                           r"'resnet152v2', 'efficientnet_lite0', 'dlib_face'\}. Got 'vgg' instead."),
    (dict(n_classes=1), r"'n_classes' parameter of build_model must be an integer >= 2. Got 1"),
    (dict(image_size=34), r"'image_size' parameter of build_model must be divisible by 4 .*Got 34"),
    (dict(image_size=16), r"'image_size' parameter of build_model must be an integer >= 32. Got 16"),
    (dict(saliency="mask"), r"'saliency' parameter of build_model must be one of "
                            r"\{'map', 'gate', 'none'\}. Got 'mask'"),
])
def test_bad_parameters_name_param_value_and_allowed(kwargs, pattern):
    """Check that a bad parameter raises an error naming it, its value and what is allowed."""
    args = dict(backbone="vgg19", n_classes=5, image_size=SIZE, saliency_cfg=SAL) | kwargs
    with pytest.raises(InvalidParameterError, match=pattern):
        build_model(args.pop("backbone"), args.pop("n_classes"), args.pop("image_size"), **args)


def test_imagenet_offline_fails_before_building(tmp_path, monkeypatch):
    """Check that build_model with unavailable ImageNet weights fails within seconds."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(weights_mod, "KERAS_HOST", "keras-weights.invalid")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError, match="resnet152v2_weights_tf_dim_ordering"):
        build_model("resnet152v2", 5, SIZE, weights="imagenet")
    assert time.monotonic() - start < 10


def test_feature_extractor_is_frozen_and_pools():
    """Check that the feature extractor maps images to pooled vectors with nothing trainable."""
    model = feature_extractor("vgg19", SIZE, "none")
    assert model.predict(_images(), verbose=0).shape == (2, 512)
    assert model.trainable_weights == []


def test_feature_extractor_refuses_dlib_face():
    """Check that feature_extractor accepts image backbones only."""
    pattern = r"'backbone' parameter of feature_extractor.*Got 'dlib_face'"
    with pytest.raises(InvalidParameterError, match=pattern):
        feature_extractor("dlib_face", 128, "none")


def test_efficientnet_imagenet_weights_load_offline(tmp_path):
    """Check that efficientnet_lite0 builds with its ported ImageNet weights and no network."""
    module = pytest.importorskip("backend.models.efficientnet_lite")
    model = build_model("efficientnet_lite0", 5, SIZE, weights="imagenet", saliency="none",
                        head=HEAD, weights_cache_dir=tmp_path)
    reference = module.build_efficientnet_lite0((SIZE, SIZE, 3), include_top=False,
                                                weights=efficientnet_imagenet_weights(tmp_path))
    for name in ("stem_conv", "top_conv"):
        np.testing.assert_array_equal(model.get_layer(name).get_weights()[0],
                                      reference.get_layer(name).get_weights()[0])


def test_split_at_block_composes_back_to_the_model():
    """Check that EfficientNet-Lite0 cut before block 8 gives a frozen bottom ending at
    block 7's output (stride 16, 80 channels) and a top whose output on it is the model's."""
    pytest.importorskip("backend.models.efficientnet_lite")
    model = build_model("efficientnet_lite0", 5, SIZE, saliency="none", head=HEAD)
    bottom, top = split_at_block(model, "efficientnet_lite0", 8)
    images = _images()
    middle = bottom.predict(images, verbose=0)
    assert middle.shape == (2, SIZE // 16, SIZE // 16, 80)
    assert bottom.trainable_weights == [] and top.trainable_weights
    np.testing.assert_allclose(top.predict(middle, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-4, atol=1e-5)


def test_split_at_block_refuses_a_backbone_without_blocks():
    """Check that split_at_block names the backbone when it cannot be split."""
    model = build_model("vgg19", 5, SIZE, saliency="none", head=HEAD)
    with pytest.raises(InvalidParameterError, match="'backbone' parameter of split_at_block"):
        split_at_block(model, "vgg19", 8)
