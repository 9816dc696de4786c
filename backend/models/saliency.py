"""The paper's saliency network: an encoder-decoder that turns a face into a map.

Section 3.2: convolution + max-pooling stages down, a bottleneck, then upsampling
merged with the matching earlier stage on the way up, ending in a saliency map.
`mode='map'` is the paper: the map, expanded to three channels, is what the
backbone sees. `mode='gate'` is our variant: the backbone sees image x map, which
keeps the colour and texture the map alone throws away.
"""
from __future__ import annotations

from dataclasses import dataclass

from backend.params import InvalidParameterError, check_choice, check_int

MODES = ("map", "gate")


@dataclass(frozen=True)
class SaliencyConfig:
    """Shape of the saliency encoder-decoder."""

    filters: tuple[int, ...] = (16, 32, 64)  # conv filters per down stage (mirrored up)
    mode: str = "map"  # 'map' (the paper) or 'gate' (image x map, our variant)


def check_saliency_size(image_size: int, cfg: SaliencyConfig, *, func: str) -> int:
    """Raise unless `image_size` survives len(filters) 2x poolings and upsamplings."""
    factor = 2 ** len(cfg.filters)
    if image_size % factor:
        allowed = f"divisible by {factor} (2**len(saliency filters)) with the saliency front end"
        raise InvalidParameterError("image_size", func, allowed, image_size)
    return image_size


def saliency_front_end(x, cfg: SaliencyConfig = SaliencyConfig()):
    """Return (three-channel tensor for the backbone, the 1-channel saliency map)."""
    from keras import layers  # lazy: importing this module must not load TensorFlow

    check_choice(cfg.mode, MODES, param="mode", func="saliency_front_end")
    if not cfg.filters:
        raise InvalidParameterError("filters", "saliency_front_end", "a non-empty tuple",
                                    cfg.filters)
    for f in cfg.filters:
        check_int(f, param="filters", func="saliency_front_end", low=1)
    check_saliency_size(int(x.shape[1]), cfg, func="saliency_front_end")
    # Encoder: remember each stage's features for the skip connection.
    skips, h = [], x
    for i, f in enumerate(cfg.filters, start=1):
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"saliency_down{i}_conv")(h)
        skips.append(h)
        h = layers.MaxPooling2D(2, name=f"saliency_down{i}_pool")(h)
    # Bottleneck: the coarsest, widest view of the face.
    h = layers.Conv2D(2 * cfg.filters[-1], 3, padding="same", activation="relu",
                      name="saliency_bottleneck")(h)
    # Decoder: upsample and merge with the matching encoder stage.
    for i in range(len(cfg.filters), 0, -1):
        h = layers.UpSampling2D(2, name=f"saliency_up{i}_upsample")(h)
        h = layers.Concatenate(name=f"saliency_up{i}_concat")([h, skips[i - 1]])
        h = layers.Conv2D(cfg.filters[i - 1], 3, padding="same", activation="relu",
                          name=f"saliency_up{i}_conv")(h)
    # One sigmoid channel: how much each pixel matters, in [0, 1].
    saliency = layers.Conv2D(1, 1, activation="sigmoid", name="saliency_map")(h)
    # Three channels so an ImageNet backbone can take it.
    map3 = layers.Concatenate(name="saliency_expand")([saliency] * 3)
    if cfg.mode == "gate":
        return layers.Multiply(name="saliency_gate")([x, map3]), saliency
    return map3, saliency

