"""Tests for the classification heads."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from backend.models.head import HeadConfig, classification_head, dense_head
from backend.params import InvalidParameterError

SMALL = HeadConfig(conv_filters=8, dense_units=(16, 8), dropout=0.5, l2=1e-4)


def _conv_model(n_classes: int = 5, cfg: HeadConfig = SMALL) -> keras.Model:
    features = keras.Input((4, 4, 32))
    return keras.Model(features, classification_head(features, n_classes, cfg))


def test_classification_head_outputs_probabilities():
    """Check that the head maps a feature map to per-class probabilities summing to 1."""
    x = np.random.default_rng(0).random((3, 4, 4, 32), dtype=np.float32)
    probs = _conv_model(8).predict(x, verbose=0)
    assert probs.shape == (3, 8)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_classification_head_layer_names_and_order():
    """Check the paper's order: conv, batch norm, ReLU, pooling, dense+dropout per entry, softmax."""
    names = [layer.name for layer in _conv_model().layers[1:]]
    assert names == ["head_conv", "head_bn", "head_relu", "head_pool", "head_dense1", "head_dropout1",
                     "head_dense2", "head_dropout2", "predictions"]


def test_l2_penalty_on_conv_and_hidden_dense_kernels():
    """Check that the conv and each hidden dense layer add an L2 loss and the softmax does not."""
    model = _conv_model()
    regularized = [layer.name for layer in model.layers
                   if getattr(layer, "kernel_regularizer", None) is not None]
    assert regularized == ["head_conv", "head_dense1", "head_dense2"]
    assert len(model.losses) == 3


def test_dropout_rate_comes_from_the_config():
    """Check that every dropout layer uses the configured rate."""
    model = _conv_model(cfg=HeadConfig(conv_filters=8, dense_units=(16,), dropout=0.3))
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.3]


def test_dense_head_has_no_convolution():
    """Check that dense_head on a vector is only dense + dropout layers and the softmax."""
    vector = keras.Input((128,))
    model = keras.Model(vector, dense_head(vector, 5, SMALL))
    assert [layer.name for layer in model.layers[1:]] == [
        "head_dense1", "head_dropout1", "head_dense2", "head_dropout2", "predictions"]


def test_no_conv_layer_when_conv_filters_is_zero():
    """Check that conv_filters=0 pools the feature map straight into the dense layers."""
    model = _conv_model(cfg=HeadConfig(conv_filters=0, dense_units=(16,)))
    names = [layer.name for layer in model.layers]
    assert "head_conv" not in names and "head_bn" not in names
    assert names[names.index("head_pool") + 1] == "head_dense1"


def test_one_class_is_rejected():
    """Check that n_classes=1 raises an error naming the parameter and the bound."""
    with pytest.raises(InvalidParameterError, match=r"'n_classes' parameter of classification_head "
                                                    r"must be an integer >= 2. Got 1 instead."):
        _conv_model(n_classes=1)


def test_dropout_of_one_is_rejected():
    """Check that a dropout rate of 1 (dropping everything) is rejected."""
    with pytest.raises(InvalidParameterError, match="'dropout'"):
        _conv_model(cfg=HeadConfig(dropout=1.0))
