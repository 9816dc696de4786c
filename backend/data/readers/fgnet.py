"""FG-NET reader: names SSSAyy.JPG (subject, age, optional a/b); landmarks in ../points."""
from __future__ import annotations

import os
import re
from pathlib import Path

from backend.data.readers.utkface import list_images
from backend.data.labelled_images import LabelledImage, ReadResult, Skipped, undecodable

PATTERN = "SSSAyy.JPG (subject, 'A', two-digit age, optional 'a' or 'b')"

_NAME = re.compile(r"^(?P<subject>\d{3})a(?P<age>\d{2})[ab]?\.jpe?g$", re.IGNORECASE)


def read_fgnet(root: str | os.PathLike) -> ReadResult:
    """Read the FG-NET `images` folder (or the folder holding `images/` and `points/`)."""
    images = _images_folder(Path(root).resolve())
    points = images.parent / "points"
    # One listing of the landmark files instead of one stat per image.
    point_names = set(os.listdir(points)) if points.is_dir() else set()
    result = ReadResult(records=[], skipped=[])
    for name in list_images(images):
        bad = undecodable(name)
        if bad is not None:
            result.skipped.append(bad)
            continue
        match = _NAME.match(name)
        if match is None:
            result.skipped.append(Skipped(name, "malformed_name",
                                          f"file name {name!r} does not follow {PATTERN}"))
            continue
        landmarks = f"{Path(name).stem.lower()}.pts"
        extras = {"subject": int(match["subject"]),
                  "landmarks": str(points / landmarks) if landmarks in point_names else None}
        result.records.append(LabelledImage(path=str(images / name), age=int(match["age"]),
                                            gender=None, extras=extras))
    return result


def _images_folder(root: Path) -> Path:
    """`root` itself, or its `images` subfolder when given the dataset's top folder."""
    nested = root / "images"
    return nested if nested.is_dir() else root
