"""The backbones agerec can build, declared once.

The command line and the dashboard read this table, so it imports nothing heavy:
no TensorFlow, no Keras, no dlib (the builders import those when they run).
"""
from __future__ import annotations

from dataclasses import dataclass

from backend.params import check_choice


@dataclass(frozen=True)
class BackboneSpec:
    """What one backbone takes, what it supports and where GradCAM looks."""

    name: str
    input_kind: str  # 'image' (a (S, S, 3) face crop) or 'descriptor' (a 128-d vector)
    default_image_size: int  # side in pixels the paper (or the model) expects
    min_image_size: int  # smallest side the backbone builds at
    supports_saliency: bool  # whether the saliency front end can precede it
    supports_gradcam: bool  # whether it has a conv feature map to explain
    last_conv_layer: str | None  # layer GradCAM reads; None without a feature map
    trainable_top_layers: int | None  # base layers fine-tuned by default; None = no default
    offline_weights: bool  # pretrained weights obtainable without internet
    description: str  # one line for the command line and the dashboard
    # Blocks a 'fine_tune_top' run can split the backbone between (0: cannot be split).
    blocks: int = 0


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            name="vgg19",
            input_kind="image",
            default_image_size=224,
            min_image_size=32,
            supports_saliency=True,
            supports_gradcam=True,
            last_conv_layer="block5_conv4",
            trainable_top_layers=8,
            offline_weights=False,
            description="VGG-19 (the paper's first model), top 8 base layers fine-tuned",
        ),
        BackboneSpec(
            name="resnet152v2",
            input_kind="image",
            default_image_size=224,
            min_image_size=32,
            supports_saliency=True,
            supports_gradcam=True,
            # The final pre-activation ReLU: the last 4-D map before pooling.
            last_conv_layer="post_relu",
            trainable_top_layers=None,
            offline_weights=False,
            description="ResNet152V2 (the paper's second model), unfrozen 10 layers per cycle",
        ),
        BackboneSpec(
            name="efficientnet_lite0",
            input_kind="image",
            default_image_size=224,
            min_image_size=32,
            supports_saliency=True,
            supports_gradcam=True,
            last_conv_layer="top_conv",  # efficientnet_lite.LAST_CONV_LAYER
            trainable_top_layers=None,
            offline_weights=True,
            description="EfficientNet-Lite0 (our addition): small, ImageNet weights offline",
            blocks=16,  # efficientnet_lite.block_specs(): the MBConv blocks, in order
        ),
        BackboneSpec(
            name="dlib_face",
            input_kind="descriptor",
            default_image_size=128,
            min_image_size=64,
            supports_saliency=False,
            supports_gradcam=False,
            last_conv_layer=None,
            trainable_top_layers=None,
            offline_weights=True,
            description="dlib's 128-d face descriptors (our addition) with a dense head",
        ),
    )
}


def backbone_names() -> tuple[str, ...]:
    """The names of every backbone, in declaration order."""
    return tuple(BACKBONES)


def get_backbone(name: str, *, func: str = "get_backbone") -> BackboneSpec:
    """Return the spec named `name`, raising InvalidParameterError for an unknown one."""
    check_choice(name, BACKBONES, param="backbone", func=func)
    return BACKBONES[name]
