"""A finished run kept loaded to try it on new photos: every face in a photo, the
probability of each age group, and the evidence behind the answer, in a fraction of a
second once warm.

Everything happens in memory: photos, crops and maps are arrays that are never written
anywhere (no crop or descriptor cache). Faces are found with `find_faces` in the
convention of the detector the run's dataset was cropped with, and cropped square with
its margin and size, so a face reaches the model as its training faces did. A dataset of
faces that came already cut (detector 'none', UTKFace) still needs them found in a
photo: its runs use the CNN's boxes.

The explanation is GradCAM of the first member with a convolutional feature map, for
the class the whole run (an ensemble too) gives the face; a run without one (dlib_face
alone) gets occlusion maps of the whole run on a coarse grid (OCCLUSION_GRID), which
costs one prediction per cell.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from backend.data.faces import DETECTORS, crop_face, expand_box, find_faces
from backend.params import check_choice, check_float, check_int

BOX_COLOUR = (255, 214, 0)  # yellow: visible on skin, hair and most backgrounds
PHOTO_MAX_SIDE = 900  # the annotated photo is sent back at most this large
OCCLUSION_GRID = 6  # cells per side when a run has no feature map: 36 predictions a face


@dataclass(frozen=True)
class CropSpec:
    """How a run's dataset cut its faces: detector, margin per side and crop size."""

    detector: str
    margin: float
    size: int

    def __post_init__(self) -> None:
        func = "CropSpec"
        check_choice(self.detector, DETECTORS, param="detector", func=func)
        check_float(self.margin, param="margin", func=func, low=0.0, high=2.0)
        check_int(self.size, param="size", func=func, low=8)

    @classmethod
    def for_photos(cls, detector: str, margin: float, size: int) -> CropSpec:
        """The spec for whole photos: a dataset's 'none' (faces came cut) becomes 'cnn'."""
        return cls("cnn" if detector == "none" else detector, float(margin), int(size))


@dataclass
class Face:
    """One face of a photo: its box in the photo, the run's class probabilities, the
    crop the model saw and the explanation map over it (None when there is none)."""

    box: tuple[int, int, int, int]
    probs: np.ndarray
    crop: np.ndarray
    heatmap: np.ndarray | None
    method: str  # 'gradcam', 'occlusion', or 'none' when not asked for


class Member:
    """One training run folder, loaded once: its model, compiled, and GradCAM when its
    backbone has a feature map."""

    def __init__(self, run_dir: str | os.PathLike):
        import tensorflow as tf

        from backend.explain.heatmaps import WarmGradcam
        from backend.models.registry import get_backbone
        from backend.training.run_folder import load_run_config, load_run_model

        self.config, self.n_classes = load_run_config(run_dir)
        self.spec = get_backbone(self.config.backbone)
        self.model = load_run_model(run_dir)
        self.gradcam = (WarmGradcam(self.model, self.spec.last_conv_layer)
                        if self.spec.supports_gradcam else None)
        self._forward = tf.function(lambda x: self.model(x, training=False),
                                    reduce_retracing=True)

    @property
    def takes_images(self) -> bool:
        return self.spec.input_kind == "image"

    def inputs(self, crops: np.ndarray) -> np.ndarray:
        """What the model takes: the crops at its image size in [0, 1], or their dlib
        descriptors (computed here, never cached)."""
        if not self.takes_images:
            from backend.models.dlib_face import face_descriptors

            return face_descriptors(crops, cache_dir=None)
        return _resized(crops, self.config.image_size)

    def predict(self, crops: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C); a run trained with tta averages each crop's with
        its mirror's, as backend.training.run_folder.predict_probs does."""
        views = [crops, np.ascontiguousarray(crops[:, :, ::-1])] if self.config.tta else [crops]
        probs = [np.asarray(self._forward(self.inputs(view)), dtype=np.float32)
                 for view in views]
        return np.mean(probs, axis=0).astype(np.float32)

    def predict_and_explain(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, C), GradCAM maps of every class (N, C, S, S)) in one pass;
        with tta the mirror's maps, mirrored back, are averaged in too."""
        x = self.inputs(crops)
        if not self.config.tta:
            return self.gradcam(x)
        n = len(x)
        probs, maps = self.gradcam(np.concatenate([x, x[:, :, ::-1]]))
        return ((probs[:n] + probs[n:]) / 2).astype(np.float32), \
            ((maps[:n] + maps[n:, :, :, ::-1]) / 2).astype(np.float32)


class LiveRun:
    """A run (one member, or an ensemble of members) ready to answer photos."""

    def __init__(self, members: Sequence[Member], crop: CropSpec, *,
                 ensemble_dir: str | os.PathLike | None = None,
                 occlusion_grid: int = OCCLUSION_GRID):
        from backend.ensemble import load_ensemble

        if not members:
            raise ValueError("a live run needs at least one member")
        if len(members) > 1 and ensemble_dir is None:
            raise ValueError("several members need the ensemble folder that combines them")
        self.members, self.crop = list(members), crop
        self.meta = load_ensemble(ensemble_dir)[0] if ensemble_dir is not None else None
        self.explained = next((m for m in self.members if m.gradcam is not None), None)
        self.occlusion_grid = check_int(occlusion_grid, param="occlusion_grid", func="LiveRun",
                                        low=1, high=crop.size)

    @classmethod
    def load(cls, member_dirs: Sequence[str | os.PathLike], crop: CropSpec, *,
             ensemble_dir: str | os.PathLike | None = None, **kwargs) -> LiveRun:
        """Load every member folder, then trace the compiled functions once on a blank
        face, so the first photo does not pay for it."""
        run = cls([Member(d) for d in member_dirs], crop, ensemble_dir=ensemble_dir, **kwargs)
        run.predict(np.zeros((1, crop.size, crop.size, 3), np.uint8), explain=True)
        return run

    @property
    def n_classes(self) -> int:
        return self.members[0].n_classes

    def predict(self, crops: np.ndarray, *, explain: bool = True,
                adjust: Callable[[np.ndarray], np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, str]:
        """(the run's probabilities (N, C), each face's map for its predicted class
        (N, S', S') or None, the method that made the maps). `adjust` turns the
        probabilities into those answered (a prior shift) before the class is chosen."""
        maps_by_class, outputs = None, []
        for member in self.members:
            if explain and member is self.explained:
                probs, maps_by_class = member.predict_and_explain(crops)
                outputs.append(probs)
            else:
                outputs.append(member.predict(crops))
        probs = self.combine(outputs)
        if adjust is not None:
            probs = np.asarray(adjust(probs), dtype=np.float32)
        chosen = probs.argmax(axis=1)
        if maps_by_class is not None:
            return probs, maps_by_class[np.arange(len(crops)), chosen], "gradcam"
        if explain:
            from backend.explain.occlusion import occlusion_maps

            maps = occlusion_maps(self.probabilities, crops, chosen, grid=self.occlusion_grid)
            return probs, maps, "occlusion"
        return probs, None, "none"

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """The run's probabilities alone, of uint8 crops or float ones in [0, 1] (what
        occlusion hands in)."""
        crops = np.asarray(images)
        if crops.dtype != np.uint8:
            crops = np.clip(np.rint(crops * 255.0), 0, 255).astype(np.uint8)
        return self.combine([member.predict(crops) for member in self.members])

    def combine(self, member_probs: list[np.ndarray]) -> np.ndarray:
        if len(member_probs) == 1:
            return member_probs[0]
        if self.meta is None:
            return np.mean(np.stack(member_probs), axis=0).astype(np.float32)
        features = np.concatenate(member_probs, axis=1)
        return np.asarray(self.meta(features, training=False), dtype=np.float32)

    def faces(self, image: np.ndarray, *, explain: bool = True,
              adjust: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Face]:
        """Every face of an (H, W, 3) uint8 photo, largest first (see `predict`)."""
        boxes = find_faces(image, self.crop.detector)
        if len(boxes) == 0:
            return []
        crops = np.stack([crop_face(image, expand_box(box, self.crop.margin, image.shape),
                                    self.crop.size) for box in boxes])
        probs, maps, method = self.predict(crops, explain=explain, adjust=adjust)
        return [Face(tuple(int(v) for v in box), probs[i], crops[i],
                     maps[i] if maps is not None else None, method)
                for i, box in enumerate(boxes)]


def face_overlay(face: Face) -> np.ndarray | None:
    """The face's map in viridis over its crop (at the map's size), or None."""
    from backend.explain.overlay import overlay

    if face.heatmap is None:
        return None
    side = face.heatmap.shape[0]
    crop = face.crop if face.crop.shape[0] == side else np.asarray(
        Image.fromarray(face.crop).resize((side, side), Image.BILINEAR))
    return overlay(crop, face.heatmap)


def annotated_photo(image: np.ndarray, boxes: Sequence[Sequence[int]],
                    max_side: int = PHOTO_MAX_SIDE) -> np.ndarray:
    """The photo, at most `max_side` pixels, with each face's box and number drawn."""
    photo = Image.fromarray(image)
    scale = min(1.0, max_side / max(photo.size))
    if scale < 1.0:
        photo = photo.resize((round(photo.width * scale), round(photo.height * scale)),
                             Image.BILINEAR)
    draw = ImageDraw.Draw(photo)
    width = max(2, round(max(photo.size) / 200))
    for number, box in enumerate(boxes, start=1):
        left, top, right, bottom = (v * scale for v in box)
        draw.rectangle((left, top, right, bottom), outline=BOX_COLOUR, width=width)
        draw.text((left + width + 2, top + width + 1), str(number), fill=BOX_COLOUR)
    return np.asarray(photo)


def _resized(crops: np.ndarray, size: int) -> np.ndarray:
    """uint8 crops as float32 [0, 1] at size x size, resized as the input pipeline does
    (bilinear, antialiased when shrinking)."""
    x = np.asarray(crops, dtype=np.float32) / 255.0
    if x.shape[1] == size:
        return x
    import tensorflow as tf

    resized = tf.image.resize(x, [size, size], antialias=size < x.shape[1])
    return np.clip(resized.numpy(), 0.0, 1.0)

