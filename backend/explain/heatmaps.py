"""GradCAM heatmaps (section 5 of the paper) and the saliency front end's own maps.

GradCAM (Selvaraju et al.) weights each channel of a convolutional feature map by
the mean gradient of a class score with respect to it, sums the channels and
keeps the positive part: the regions whose features raise that class. GradCAM++
(Chattopadhyay et al.) replaces the mean gradient with pixel-wise weights, which
suits several instances of a feature better. Both come from tf-keras-vis.

Models are Keras 3 functional models with a float32 [0, 1] `image` input and a
softmax output; `layer` names the feature map to explain (for our backbones the
registry's `last_conv_layer`, e.g. VGG19's `block5_conv4`). The softmax is
replaced by a linear output for the gradients (ReplaceToLinear), on a clone, so
the scores are logits and the caller's model is left untouched.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import tensorflow as tf

from backend.params import InvalidParameterError, check_choice, check_int

# The heatmap methods, by the names configs and the dashboard use.
METHODS = ("gradcam", "gradcam++")
# The saliency front end's 1-channel sigmoid output layer.
SALIENCY_LAYER = "saliency_map"
# A map whose range is below this share of its largest value counts as flat.
_FLAT_TOLERANCE = 1e-5


def class_heatmaps(model: Any, images: Any, class_indices: Any, *, layer: str,
                   method: str = "gradcam", batch_size: int = 32) -> np.ndarray:
    """GradCAM maps of `images` for one class each, as float32 (N, H, W) in [0, 1].

    `images` is (N, H, W, 3), uint8 (scaled to [0, 1] here) or float in [0, 1];
    `class_indices` gives one class per image (or one for all), usually the
    predicted class and, in a second call, the true class. Each map is resized to
    the input's H x W and scaled to [0, 1] on its own; a flat map (no positive
    evidence for the class, or not finite) comes back as zeros.
    """
    func = "class_heatmaps"
    check_choice(method, METHODS, param="method", func=func)
    batch_size = check_int(batch_size, param="batch_size", func=func, low=1)
    x = _as_model_input(images, func)
    classes = _class_indices(model, class_indices, len(x), func)
    _check_feature_layer(model, layer, func)
    visualiser = _visualiser(model, method)
    # Batches bound the memory of the gradient tape on large backbones.
    maps = [_cam_batch(visualiser, x[s:s + batch_size], classes[s:s + batch_size], layer)
            for s in range(0, len(x), batch_size)]
    return np.concatenate(maps, axis=0) if maps else np.zeros((0, *x.shape[1:3]), np.float32)


class WarmGradcam:
    """A model's class probabilities and GradCAM maps of every class from one forward
    pass, compiled once: for a model kept loaded between requests (`class_heatmaps`
    clones the model on every call).

    The maps are class_heatmaps(method='gradcam')'s: channel weights are the mean
    gradient of the class's logit (the softmax layer read as linear), the weighted sum
    is kept positive, resized to the input and scaled to [0, 1] per map. Backpropagating
    from the logits to `layer` crosses only the head, so every class costs little more
    than one.
    """

    def __init__(self, model: Any, layer: str):
        import keras

        _check_feature_layer(model, layer, "WarmGradcam")
        # The output layer's call in this model (a head shared with another model, as in
        # a frozen-features run, was called there first).
        history = model.outputs[0]._keras_history
        out = history.operation
        head_input = out._inbound_nodes[history.node_index].input_tensors[0]
        if not (isinstance(out, keras.layers.Dense) and out.activation is keras.activations.softmax):
            raise InvalidParameterError("model", "WarmGradcam", "a model whose last layer is a "
                                        "softmax Dense layer", out.name)
        # The softmax layer's weights, read as a linear layer: logits.
        linear = keras.layers.Dense(out.units, use_bias=out.use_bias, dtype=out.dtype_policy,
                                    name="logits")
        logits = linear(head_input)
        linear.set_weights(out.get_weights())
        self.n_classes = int(out.units)
        self._model = keras.Model(model.inputs, [model.get_layer(layer).output, logits])
        self._call = tf.function(self._probs_and_cams, reduce_retracing=True)

    def _probs_and_cams(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)  # frozen weights are not watched: record from the input
            fmap, logits = self._model(x, training=False)
            scores = [logits[:, c] for c in range(self.n_classes)]
        cams = []
        for score in scores:
            weights = tf.reduce_mean(tape.gradient(score, fmap), axis=(1, 2))  # (N, K)
            cams.append(tf.nn.relu(tf.einsum("nhwk,nk->nhw", fmap, weights)))
        del tape
        return tf.nn.softmax(logits), tf.stack(cams, axis=1)  # (N, C), (N, C, h, w)

    def __call__(self, images: Any) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, C), maps (N, C, H, W) in [0, 1]) of (N, H, W, 3) images,
        uint8 or float in [0, 1], at the model's input size."""
        x = _as_model_input(images, "WarmGradcam")
        probs, cams = self._call(tf.constant(x))
        cams = np.asarray(cams, dtype=np.float32)
        n, c, h, w = cams.shape
        maps = _normalise_per_image(_resize(cams.reshape(n * c, h, w), x.shape[1:3]))
        return np.asarray(probs, dtype=np.float32), maps.reshape(n, c, *x.shape[1:3])


def has_saliency_front(model: Any) -> bool:
    """Whether `model` has a saliency front end (a layer named SALIENCY_LAYER)."""
    return any(layer.name == SALIENCY_LAYER for layer in model.layers)


def saliency_front_maps(model: Any, images: Any, *, batch_size: int = 32) -> np.ndarray:
    """The saliency front end's own maps for `images`, float32 (N, H, W) in [0, 1].

    These are the sigmoid outputs as they are (not rescaled per image), resized to
    the input's size if the front end works at another one. Raises ValueError when
    the model has no layer named 'saliency_map' (check with `has_saliency_front`).
    """
    import keras

    func = "saliency_front_maps"
    batch_size = check_int(batch_size, param="batch_size", func=func, low=1)
    if not has_saliency_front(model):
        raise ValueError(f"model {model.name!r} has no saliency front end (no layer named "
                         f"{SALIENCY_LAYER!r}); check has_saliency_front(model) first")
    x = _as_model_input(images, func)
    # A sub-model that stops at the front end's output.
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    front = keras.Model(inputs, model.get_layer(SALIENCY_LAYER).output)
    parts = [np.asarray(front(x[s:s + batch_size], training=False))[..., 0]
             for s in range(0, len(x), batch_size)]
    maps = np.concatenate(parts, axis=0) if parts else np.zeros((0, *x.shape[1:3]), np.float32)
    if maps.shape[1:] != x.shape[1:3]:
        maps = _resize(maps, x.shape[1:3])
    return np.clip(maps, 0.0, 1.0).astype(np.float32)


def _visualiser(model: Any, method: str) -> Any:
    """A tf-keras-vis GradCAM object on a clone of `model` with a linear output."""
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear

    # Logits, not softmax: softmax gradients mix in every other class.
    cls = Gradcam if method == "gradcam" else GradcamPlusPlus
    return cls(model, model_modifier=ReplaceToLinear(), clone=True)


def _cam_batch(visualiser: Any, x: np.ndarray, classes: np.ndarray, layer: str) -> np.ndarray:
    """Maps of one batch at the input size, each scaled to [0, 1]."""
    from tf_keras_vis.utils.scores import CategoricalScore

    # Exactly the named layer: no search for a nearby conv layer.
    cams = visualiser(CategoricalScore([int(c) for c in classes]), x, penultimate_layer=layer,
                      seek_penultimate_conv_layer=False, expand_cam=False, normalize_cam=False)
    cams = np.asarray(cams, dtype=np.float32).reshape(len(x), *np.shape(cams)[-2:])
    # Resize before scaling so every map reaches exactly 1 at its peak.
    return _normalise_per_image(_resize(cams, x.shape[1:3]))


def _resize(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of (N, h, w) maps to (N, H, W), pixel centres aligned."""
    if maps.shape[1:] == tuple(size):
        return maps.astype(np.float32)
    resized = tf.image.resize(maps[..., None].astype(np.float32), tuple(size), method="bilinear")
    return resized.numpy()[..., 0]


def _normalise_per_image(maps: np.ndarray) -> np.ndarray:
    """Min-max scale each map to [0, 1]; flat or non-finite maps become zeros."""
    finite = np.isfinite(maps).all(axis=(1, 2))
    safe = np.where(np.isfinite(maps), maps, 0.0)
    lo = safe.min(axis=(1, 2), keepdims=True)
    hi = safe.max(axis=(1, 2), keepdims=True)
    span = hi - lo
    scale = np.maximum(np.abs(hi), np.abs(lo))
    # A range lost in rounding noise carries no information: call it flat.
    flat = (span <= _FLAT_TOLERANCE * scale) | (span <= 0) | ~finite[:, None, None]
    if (~finite).any():
        warnings.warn(f"{int((~finite).sum())} heatmap(s) had NaN or inf values (overflow in "
                      "the gradients?); they are returned as zeros", RuntimeWarning, stacklevel=3)
    out = np.where(flat, 0.0, (safe - lo) / np.where(flat, 1.0, span))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _as_model_input(images: Any, func: str) -> np.ndarray:
    """(N, H, W, 3) images as the float32 [0, 1] batch the models take."""
    x = np.asarray(images)
    if x.ndim != 4:
        raise InvalidParameterError("images", func, "an (N, H, W, C) batch", x.shape)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    return x.astype(np.float32)


def _class_indices(model: Any, class_indices: Any, n: int, func: str) -> np.ndarray:
    """One valid class index per image (a single index is used for every image)."""
    classes = np.asarray(class_indices).reshape(-1)
    if classes.size == 1 and n != 1:
        classes = np.repeat(classes, n)
    if classes.size != n:
        raise InvalidParameterError("class_indices", func, f"one index per image ({n})",
                                    f"{classes.size} indices")
    if classes.size and not np.issubdtype(classes.dtype, np.integer):
        if not np.all(np.equal(np.mod(classes, 1), 0)):
            raise InvalidParameterError("class_indices", func, "integers", classes)
    classes = classes.astype(np.int64)
    n_classes = int(model.outputs[0].shape[-1])
    if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
        raise InvalidParameterError("class_indices", func, f"in [0, {n_classes - 1}]",
                                    classes[(classes < 0) | (classes >= n_classes)][:5])
    return classes


def _check_feature_layer(model: Any, layer: str, func: str) -> None:
    """Raise unless `layer` names a layer of `model` with a (B, h, w, C) output."""
    spatial = [lay.name for lay in model.layers if len(_output_shape(lay)) == 4]
    names = {lay.name for lay in model.layers}
    if layer not in names:
        raise InvalidParameterError("layer", func, "the name of a layer with a spatial output, "
                                    f"one of {spatial[-5:]} (last five shown)", layer)
    if layer not in spatial:
        raise InvalidParameterError("layer", func, "a layer with a 4-D (B, h, w, C) output; "
                                    f"{layer!r} outputs shape "
                                    f"{_output_shape(model.get_layer(layer))}", layer)


def _output_shape(layer: Any) -> tuple:
    """A layer's output shape, or () when it has none (e.g. several outputs)."""
    try:
        return tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return ()
