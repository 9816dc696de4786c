"""Tests for the backbone registry."""
from __future__ import annotations

import subprocess
import sys

import pytest

from backend.models.registry import BACKBONES, backbone_names, get_backbone
from backend.params import InvalidParameterError


def test_registry_lists_the_four_backbones_in_order():
    """Check that the registry declares vgg19, resnet152v2, efficientnet_lite0, dlib_face."""
    assert backbone_names() == ("vgg19", "resnet152v2", "efficientnet_lite0", "dlib_face")


def test_unknown_backbone_error_names_param_value_and_choices():
    """Check that an unknown backbone raises an error naming it and the allowed ones."""
    with pytest.raises(InvalidParameterError) as err:
        get_backbone("vgg")
    assert str(err.value) == (
        "The 'backbone' parameter of get_backbone must be one of "
        "{'vgg19', 'resnet152v2', 'efficientnet_lite0', 'dlib_face'}. Got 'vgg' instead."
    )


def test_dlib_face_has_no_saliency_gradcam_or_conv_layer():
    """Check that dlib_face takes descriptors and declares no saliency, GradCAM or conv layer."""
    spec = get_backbone("dlib_face")
    assert (spec.input_kind, spec.supports_saliency, spec.supports_gradcam, spec.last_conv_layer) == (
        "descriptor", False, False, None)


def test_image_backbones_name_a_last_conv_layer():
    """Check that every image backbone supports saliency and GradCAM with a named layer."""
    for spec in BACKBONES.values():
        if spec.input_kind == "image":
            assert spec.supports_saliency and spec.supports_gradcam and spec.last_conv_layer


def test_only_vgg19_has_a_default_trainable_top():
    """Check that only vgg19 has a default trainable top: its last 8 base layers."""
    assert {n: s.trainable_top_layers for n, s in BACKBONES.items()} == {
        "vgg19": 8, "resnet152v2": None, "efficientnet_lite0": None, "dlib_face": None}


def test_offline_weights_flags():
    """Check that only efficientnet_lite0 and dlib_face claim offline pretrained weights."""
    assert {n for n, s in BACKBONES.items() if s.offline_weights} == {"efficientnet_lite0", "dlib_face"}


def test_efficientnet_last_conv_layer_matches_its_builder():
    """Check that the registry's efficientnet_lite0 layer is the builder's LAST_CONV_LAYER."""
    module = pytest.importorskip("backend.models.efficientnet_lite")
    assert get_backbone("efficientnet_lite0").last_conv_layer == module.LAST_CONV_LAYER


def test_registry_import_loads_no_tensorflow():
    """Check that importing the registry (as the dashboard does) loads neither TensorFlow nor Keras."""
    code = ("import sys, backend.models.registry; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'dlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
