"""Build the paper's models: [saliency front end] -> preprocessing -> backbone -> head.

The backbone is built on our tensor (`input_tensor=`), so its layers join the
model's graph flat, by their own names: GradCAM reaches `block5_conv4` through
the saliency front end, and freezing works layer by layer. Layer names:
`image` (input), `saliency_*`, `preprocess_<backbone>`, the backbone's own,
`head_*`, `predictions`.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import keras
from keras import layers, ops

from backend.models.head import HeadConfig, classification_head
from backend.models.registry import BACKBONES, BackboneSpec, get_backbone
from backend.models.saliency import SaliencyConfig, check_saliency_size, saliency_front_end
from backend.models.weights import resolve_weights
from backend.params import check_choice, check_int

SALIENCY_CHOICES = ("map", "gate", "none")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)  # ImageNet means VGG19 was trained with
OWN_PREFIXES = ("saliency_", "preprocess_", "head_")  # layers that are ours, not the base's


@keras.saving.register_keras_serializable(package="agerec")
class BackbonePreprocess(layers.Layer):
    """Map [0, 1] RGB to what `backbone` was trained on (a named, weightless layer)."""

    def __init__(self, backbone: str, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone

    def call(self, x):
        x = ops.multiply(ops.cast(x, self.compute_dtype), 255.0)
        if self.backbone == "vgg19":
            # Caffe style: BGR order, ImageNet mean subtracted, no scaling.
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(CAFFE_MEAN_BGR, x.dtype)
        if self.backbone == "efficientnet_lite0":
            from backend.models.efficientnet_lite import preprocess_input

            return preprocess_input(x)
        # ResNet V2 style: [-1, 1].
        return x / 127.5 - 1.0

    def get_config(self):
        return {**super().get_config(), "backbone": self.backbone}


def _backbone(spec: BackboneSpec, image_size: int, *, input_tensor=None, weights=None):
    """The Keras backbone without its top, on `input_tensor` when given."""
    kwargs = dict(input_shape=(image_size, image_size, 3), include_top=False,
                  weights=None if weights is None else str(weights), input_tensor=input_tensor)
    if spec.name == "vgg19":
        return keras.applications.VGG19(**kwargs)
    if spec.name == "resnet152v2":
        return keras.applications.ResNet152V2(**kwargs)
    from backend.models.efficientnet_lite import build_efficientnet_lite0

    return build_efficientnet_lite0(**kwargs)


def _load_base_weights(model: keras.Model, spec: BackboneSpec, image_size: int, path: Path):
    """Load the file into a standalone backbone, then copy its weights by layer name.

    The file lists the backbone's layers only, so it cannot load into the whole
    model (whose saliency layers have weights too); names match one to one.
    """
    reference = _backbone(spec, image_size, weights=path)
    for layer in reference.layers:
        if layer.weights:
            model.get_layer(layer.name).set_weights(layer.get_weights())


def _image_backbone(spec: BackboneSpec, image_size, func: str) -> int:
    """Check that `spec` takes images and `image_size` is big enough for it."""
    image_names = [n for n, s in BACKBONES.items() if s.input_kind == "image"]
    check_choice(spec.name, image_names, param="backbone", func=func)
    return check_int(image_size, param="image_size", func=func, low=spec.min_image_size)


def build_model(backbone: str, n_classes: int, image_size: int, *, weights="none",
                saliency: str | None = None, head: HeadConfig = HeadConfig(),
                saliency_cfg: SaliencyConfig = SaliencyConfig(),
                weights_cache_dir: str | os.PathLike | None = None) -> keras.Model:
    """The full classifier: float32 [0, 1] images (B, S, S, 3) -> class probabilities.

    `saliency` is 'map' (the paper), 'gate' (our variant) or 'none'; None means
    'map' where the backbone supports it, else 'none'. It overrides
    `saliency_cfg.mode`. For `dlib_face` the input is a 128-d `descriptor`,
    `image_size` is ignored and only the dense head follows. With pretrained
    weights, vgg19 starts with its top 8 base layers trainable (the registry's
    default); with random weights every base layer trains, since a frozen random
    layer learns nothing.
    """
    spec = get_backbone(backbone, func="build_model")
    if saliency is None:
        saliency = "map" if spec.supports_saliency else "none"
    if spec.input_kind == "descriptor":
        from backend.models.dlib_face import build_descriptor_model

        check_choice(saliency, ("none",), param="saliency", func="build_model")
        resolve_weights(spec, weights, weights_cache_dir)
        return build_descriptor_model(n_classes, head)
    image_size = _image_backbone(spec, image_size, "build_model")
    n_classes = check_int(n_classes, param="n_classes", func="build_model", low=2)
    check_choice(saliency, SALIENCY_CHOICES, param="saliency", func="build_model")
    if saliency != "none":
        check_saliency_size(image_size, saliency_cfg, func="build_model")
    # Resolve weights first: a missing file should fail before minutes of building.
    path = resolve_weights(spec, weights, weights_cache_dir)
    image = keras.Input((image_size, image_size, 3), dtype="float32", name="image")
    x = image
    if saliency != "none":
        x, _ = saliency_front_end(x, replace(saliency_cfg, mode=saliency))
    x = BackbonePreprocess(spec.name, name=f"preprocess_{spec.name}")(x)
    # input_tensor= puts the backbone's layers into this graph, flat.
    base = _backbone(spec, image_size, input_tensor=x)
    outputs = classification_head(base.output, n_classes, head)
    model = keras.Model(image, outputs, name=f"agerec_{spec.name}")
    if path is not None:
        _load_base_weights(model, spec, image_size, path)
        if spec.trainable_top_layers is not None:
            set_base_trainable(model, spec.trainable_top_layers)
    return model


def feature_extractor(backbone: str, image_size: int, weights="none",
                      weights_cache_dir: str | os.PathLike | None = None) -> keras.Model:
    """Frozen backbone + preprocessing + global average pooling: images -> vectors."""
    spec = get_backbone(backbone, func="feature_extractor")
    image_size = _image_backbone(spec, image_size, "feature_extractor")
    path = resolve_weights(spec, weights, weights_cache_dir)
    image = keras.Input((image_size, image_size, 3), dtype="float32", name="image")
    x = BackbonePreprocess(spec.name, name=f"preprocess_{spec.name}")(image)
    base = _backbone(spec, image_size, input_tensor=x)
    features = layers.GlobalAveragePooling2D(name="features")(base.output)
    model = keras.Model(image, features, name=f"features_{spec.name}")
    if path is not None:
        _load_base_weights(model, spec, image_size, path)
    # Frozen: BatchNormalization layers then run in inference mode too.
    model.trainable = False
    return model


def split_at_block(model: keras.Model, backbone: str, split_block: int
                   ) -> tuple[keras.Model, keras.Model]:
    """(bottom, top): `model` cut where block `split_block` of its backbone starts.

    `bottom` maps the model's images to the input of that block (frozen: its
    BatchNormalization layers run in inference mode); `top` maps that tensor to the
    model's output. Both share `model`'s layers, so training `top` trains `model`.
    """
    from backend.models.efficientnet_lite import block_specs

    func = "split_at_block"
    spec = get_backbone(backbone, func=func)
    check_choice(spec.name, [n for n, s in BACKBONES.items() if s.blocks], param="backbone",
                 func=func)
    split_block = check_int(split_block, param="split_block", func=func, low=1,
                            high=spec.blocks - 1)
    prefix = block_specs()[split_block].prefix
    first = next(layer for layer in model.layers if layer.name.startswith(prefix))
    boundary = first.input
    bottom = keras.Model(model.input, boundary, name=f"{model.name}_bottom")
    bottom.trainable = False
    top = keras.Model(boundary, model.output, name=f"{model.name}_top")
    return bottom, top


def base_layers(model: keras.Model) -> list:
    """The backbone's layers in graph order: not the input, ours, or `predictions`."""
    return [
        layer for layer in model.layers
        if not isinstance(layer, layers.InputLayer)
        and not layer.name.startswith(OWN_PREFIXES)
        and layer.name not in ("predictions", "features")
    ]


def set_base_trainable(model: keras.Model, n_top: int | str | None) -> None:
    """Freeze the base, then unfreeze its last `n_top` layers (None or 'all': every one).

    Frozen BatchNormalization layers run in inference mode (Keras 3 does this
    for trainable=False). Recompile the model afterwards for it to take effect.
    """
    base = base_layers(model)
    if n_top is None or n_top == "all":
        n_top = len(base)
    n_top = check_int(n_top, param="n_top", func="set_base_trainable", low=0, high=len(base))
    for i, layer in enumerate(base):
        layer.trainable = i >= len(base) - n_top


def count_trainable_base_layers(model: keras.Model) -> int:
    """How many base layers are trainable."""
    return sum(layer.trainable for layer in base_layers(model))
