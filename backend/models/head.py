"""The classification head of section 3.2.

On the backbone's feature map: one more convolution with batch normalisation,
then dense layers with dropout and L2 regularisation, then a softmax over the
age classes. Every layer is named `head_*` except the softmax, `predictions`.
"""
from __future__ import annotations

from dataclasses import dataclass

from backend.params import check_float, check_int


@dataclass(frozen=True)
class HeadConfig:
    """Sizes and regularisation of the classification head."""

    conv_filters: int = 256  # filters of the 3x3 conv on the backbone's feature map; 0 = none
    dense_units: tuple[int, ...] = (256, 128)  # one dense layer per entry, in order
    dropout: float = 0.5  # dropout rate after each dense layer
    l2: float = 1e-4  # L2 weight penalty on the conv and dense kernels


def _check(n_classes: int, cfg: HeadConfig, func: str) -> int:
    """Validate the class count and the config; return n_classes as an int."""
    check_int(cfg.conv_filters, param="conv_filters", func=func, low=0)
    for units in cfg.dense_units:
        check_int(units, param="dense_units", func=func, low=1)
    check_float(cfg.dropout, param="dropout", func=func, low=0.0, high=0.99)
    check_float(cfg.l2, param="l2", func=func, low=0.0)
    return check_int(n_classes, param="n_classes", func=func, low=2)


def _dense_stack(x, n_classes: int, cfg: HeadConfig):
    """Dense + dropout per entry of dense_units, then the softmax."""
    from keras import layers, regularizers

    for i, units in enumerate(cfg.dense_units, start=1):
        x = layers.Dense(units, activation="relu", kernel_regularizer=regularizers.L2(cfg.l2),
                         name=f"head_dense{i}")(x)
        x = layers.Dropout(cfg.dropout, name=f"head_dropout{i}")(x)
    # float32 softmax keeps probabilities exact under mixed precision.
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="predictions")(x)


def classification_head(x, n_classes: int, cfg: HeadConfig = HeadConfig()):
    """Class probabilities from a (B, H, W, C) feature map."""
    from keras import layers, regularizers

    n_classes = _check(n_classes, cfg, "classification_head")
    if cfg.conv_filters:
        # One more convolution to adapt ImageNet features to faces; BN before ReLU.
        x = layers.Conv2D(cfg.conv_filters, 3, padding="same", use_bias=False,
                          kernel_regularizer=regularizers.L2(cfg.l2), name="head_conv")(x)
        x = layers.BatchNormalization(name="head_bn")(x)
        x = layers.ReLU(name="head_relu")(x)
    # Average over space: the dense layers see one vector per face.
    x = layers.GlobalAveragePooling2D(name="head_pool")(x)
    return _dense_stack(x, n_classes, cfg)


def dense_head(x, n_classes: int, cfg: HeadConfig = HeadConfig()):
    """Class probabilities from a (B, D) vector, e.g. a dlib face descriptor."""
    n_classes = _check(n_classes, cfg, "dense_head")
    return _dense_stack(x, n_classes, cfg)
