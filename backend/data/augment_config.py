"""Augmentation settings, kept free of TensorFlow so presets and job forms can read
them in processes (the dashboard) that must never load it."""
from __future__ import annotations

from dataclasses import dataclass

from backend.params import check_bool, check_choice, check_float

FILL_MODES = ("reflect", "nearest", "constant", "wrap")


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation ranges at strength 1, in the spirit of ImageDataGenerator face settings."""

    rotation: float = 15.0  # max rotation, degrees either way
    width_shift: float = 0.1  # max horizontal shift, fraction of the width
    height_shift: float = 0.1  # max vertical shift, fraction of the height
    shear: float = 0.1  # max shear factor (x += shear * y); 0.1 is about 5.7 degrees
    zoom: float = 0.1  # scale drawn from [1 - zoom, 1 + zoom]
    horizontal_flip: bool = True  # mirror half of the images left-right
    greyscale_prob: float = 0.0  # chance an image is turned grey (for greyscale robustness)
    max_strength: float = 2.0  # multiplier for a class with almost no images; the largest gets 1
    fill_mode: str = "reflect"  # how pixels moved in from outside the image are filled

    def __post_init__(self) -> None:
        func = "AugmentConfig"
        for name in ("rotation", "width_shift", "height_shift", "shear", "zoom"):
            object.__setattr__(self, name, check_float(getattr(self, name), param=name,
                                                       func=func, low=0.0))
        # Zoom ranges past 1 would allow a zero or negative scale at strength 1.
        check_float(self.zoom, param="zoom", func=func, low=0.0, high=0.9)
        object.__setattr__(self, "horizontal_flip",
                           check_bool(self.horizontal_flip, param="horizontal_flip", func=func))
        object.__setattr__(self, "greyscale_prob", check_float(
            self.greyscale_prob, param="greyscale_prob", func=func, low=0.0, high=1.0))
        object.__setattr__(self, "max_strength", check_float(
            self.max_strength, param="max_strength", func=func, low=1.0, high=10.0))
        check_choice(self.fill_mode, FILL_MODES, param="fill_mode", func=func)
