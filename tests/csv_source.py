"""Small labelled sources made at test time: noise JPEGs and a manifest.csv, for any
layer's tests (nothing here is committed data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_csv_source(root: Path, n: int = 40, size: int = 48, seed: int = 0,
                    ages: tuple[int, ...] = (5, 25, 45, 65, 85),
                    extra: dict[str, tuple[str, ...]] | None = None) -> Path:
    """n small JPEGs with ages over every class and both genders, plus manifest.csv.

    Image i is about `ages[i % len(ages)]` years old; repeat an age for a class mix
    that is not even. `extra` adds columns (e.g. {'race': ('A', 'B')}): image i gets
    value i % len(values) of each.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    extra = extra or {}
    lines = [",".join(["path", "age", "gender", *extra])]
    for i in range(n):
        pixels = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"img{i:03d}.jpg", quality=90)
        age = ages[i % len(ages)] + i % 7
        lines.append(",".join([f"img{i:03d}.jpg", str(age), "MF"[(i // len(ages)) % 2],
                               *(values[i % len(values)] for values in extra.values())]))
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root / "manifest.csv"


def make_noise_source(folder: Path, n: int, seed: int = 1, faces: int = 0) -> Path:
    """n faceless 360 px photos, big enough to keep the CNN detector busy for seconds,
    plus manifest.csv. With `faces`, as many rows of one real face (a 180 px crop of
    scikit-image's astronaut, detected once and shared by content) over every class and
    both genders, so that a preprocess of it keeps some images."""
    from skimage import data

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["path,age,gender"]
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (360, 360, 3), dtype=np.uint8)).save(
            folder / f"{i}.jpg")
        lines.append(f"{i}.jpg,{20 + i},{'MF'[i % 2]}")
    if faces:
        Image.fromarray(data.astronaut()[30:210, 130:310]).save(folder / "face.png")
        lines += [f"face.png,{5 + 20 * (i % 5)},{'MF'[(i // 5) % 2]}" for i in range(faces)]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder / "manifest.csv"
