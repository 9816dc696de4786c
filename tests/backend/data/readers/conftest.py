"""Fixtures for the reader tests: tiny JPEG files and small IMDB-WIKI style .mat files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

# The IMDB-WIKI row the tests start from: born 1981-05-05 (datenum 723671), photo from 2009.
_WIKI_ROW = {"dob": 723671.0, "photo_taken": 2009, "full_path": "17/10000217_1981-05-05_2009.jpg",
            "gender": 1.0, "name": "Sami", "face_location": [1.0, 2.0, 3.0, 4.0],
            "face_score": 4.3, "second_face_score": np.nan}


@pytest.fixture
def make_jpeg():
    """A function writing a 4x4 JPEG at folder/name and returning its path."""
    def make(folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        Image.new("RGB", (4, 4), (120, 80, 40)).save(path, format="JPEG")
        return path
    return make


@pytest.fixture
def make_mat():
    """A function writing one row per dict of `changes` (each applied to a base row whose
    full_path is 00/<index>.jpg) as a MATLAB struct named `struct`."""
    def make(path: Path, changes: list[dict], struct: str = "wiki") -> Path:
        rows = [{**_WIKI_ROW, "full_path": f"00/{i}.jpg", **change}
                for i, change in enumerate(changes)]
        fields = {}
        for key in ("dob", "gender", "face_score", "second_face_score"):
            fields[key] = np.array([[row[key] for row in rows]], dtype=float)
        fields["photo_taken"] = np.array([[row["photo_taken"] for row in rows]], dtype=np.uint16)
        for key in ("full_path", "name", "face_location"):
            cells = np.empty((1, len(rows)), dtype=object)
            for i, row in enumerate(rows):
                cells[0, i] = _cell(key, row[key])
            fields[key] = cells
        scipy.io.savemat(path, {struct: fields})
        return path
    return make


def _cell(key: str, value):
    """A value as scipy writes MATLAB cells: strings, empty names, 1x4 boxes."""
    if key == "face_location":
        return np.array([value], dtype=float)
    return np.array([], dtype="<U1") if value is None else value
