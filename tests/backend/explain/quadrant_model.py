"""A tiny hand-set model whose class 0 sees only the image's top-left quadrant."""
from __future__ import annotations

import numpy as np

SIZE = 32  # input side in pixels
HALF = SIZE // 2  # the quadrant's side


def quadrant_model():
    """Class 0's logit is the local contrast inside the top-left quadrant only.

    image -> `edges` (|Laplacian| of the grey image, full frame) -> `crop` (keep the
    top-left quadrant) -> `pad` (back to full size, zeros elsewhere) -> `stack`
    (quadrant channels 0-1 next to the full-frame channels 2-3) -> `pool` ->
    `features` (1x1 identity) -> mean -> `predictions`. Class 0 reads channels 0-1
    (the quadrant); class 1 reads the contrast outside it (full minus quadrant).
    GradCAM at `features` must therefore light the quadrant for class 0 and the
    rest for class 1; at `crop` (after the cropping) the map covers only the
    quadrant's grid and is stretched over the whole image.
    """
    import keras
    from keras import layers

    image = keras.Input((SIZE, SIZE, 3), name="image")
    edges = layers.Conv2D(2, 3, padding="same", activation="relu", use_bias=False,
                          name="edges")(image)
    crop = layers.Cropping2D(((0, HALF), (0, HALF)), name="crop")(edges)
    pad = layers.ZeroPadding2D(((0, HALF), (0, HALF)), name="pad")(crop)
    stack = layers.Concatenate(name="stack")([pad, edges])
    pool = layers.MaxPooling2D(2, name="pool")(stack)
    features = layers.Conv2D(4, 1, activation="relu", use_bias=False, name="features")(pool)
    gap = layers.GlobalAveragePooling2D(name="gap")(features)
    predictions = layers.Dense(2, activation="softmax", use_bias=False, name="predictions")(gap)
    model = keras.Model(image, predictions, name="quadrant")

    # edges: +Laplacian and -Laplacian of the luma, so relu keeps |Laplacian|.
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    kernel = np.zeros((3, 3, 3, 2), np.float32)
    kernel[..., 0] = laplacian[..., None] * luma
    kernel[..., 1] = -laplacian[..., None] * luma
    model.get_layer("edges").set_weights([kernel])
    model.get_layer("features").set_weights([np.eye(4, dtype=np.float32)[None, None]])
    # class 0 = quadrant contrast; class 1 = full-frame contrast minus the quadrant's.
    # Class 0 weighs more, so plain noise is called class 0 with p ~ 0.9.
    dense = np.array([[12, -2], [12, -2], [0, 2], [0, 2]], np.float32)
    model.get_layer("predictions").set_weights([dense])
    return model


def noise_images(n: int, seed: int = 0) -> np.ndarray:
    """Uniform noise images, float32 (n, SIZE, SIZE, 3) in [0, 1]."""
    return np.random.default_rng(seed).random((n, SIZE, SIZE, 3)).astype(np.float32)


def quadrant_mass(maps: np.ndarray) -> np.ndarray:
    """Per map, the share of its mass inside the top-left quadrant."""
    return maps[:, :HALF, :HALF].sum(axis=(1, 2)) / maps.sum(axis=(1, 2))
