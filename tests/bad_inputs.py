"""A corpus of bad inputs, made at test time (nothing here is committed data): broken
and hostile image files, label files with junk in them, and sources mixing them with
good photos. Each maker writes one file and returns its path."""
from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from backend.data.labelled_images import printable

GOOD_SIDE = 48  # good photos: above the default min_face_side (32 px)
BOMB_SIDE = 12_000  # 144 Mpx: 430 MB of RGB if decoded, a ~140 KB file


def good_jpeg(path: Path, seed: int = 0) -> Path:
    """A readable 48 px noise photo."""
    pixels = np.random.default_rng(seed).integers(0, 255, (GOOD_SIDE, GOOD_SIDE, 3), np.uint8)
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return path


def portrait(path: Path, side: int = 512) -> Path:
    """A real face (scikit-image's astronaut portrait), for what must find a face."""
    from skimage import data

    Image.fromarray(data.astronaut()).resize((side, side)).save(path, format="JPEG", quality=90)
    return path


def truncated_jpeg(path: Path) -> Path:
    """A JPEG cut off after half of its bytes (an interrupted download)."""
    good_jpeg(path, seed=99)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def zero_byte(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_as_jpeg(path: Path) -> Path:
    """A text file named like a photo."""
    path.write_text("this is not a photo, whatever its name says\n")
    return path


def one_pixel(path: Path) -> Path:
    Image.new("RGB", (1, 1), (200, 100, 50)).save(path, format="PNG")
    return path


def pixel_bomb(path: Path, side: int = BOMB_SIDE) -> Path:
    """A valid greyscale PNG of side x side pixels, all black: a small file that
    decompresses to side**2 bytes (and three times that as RGB). Written row by row, so
    making it never holds the image in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    packer = zlib.compressobj(6)
    row = b"\x00" * (side + 1)  # filter byte 0, then one black byte per pixel
    body = b"".join(packer.compress(row * 500) for _ in range(side // 500))
    body += packer.compress(row * (side % 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
                     + chunk(b"IEND", b""))
    return path


def non_utf8_name(folder: Path, stem: bytes = b"40_1_0_20170109150557335\xff",
                  suffix: bytes = b".jpg.chip.jpg") -> Path:
    """A portrait whose file name holds a byte that is not UTF-8 (0xff); returned as
    Python's surrogate-escaped str, as os.listdir gives it."""
    raw = os.fsencode(folder) + b"/" + stem + suffix
    portrait(Path(os.fsdecode(raw)))
    return Path(os.fsdecode(raw))


def empty_mat(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def junk_mat(path: Path) -> Path:
    """A file named .mat holding random bytes after a MATLAB-like text header."""
    junk = np.random.default_rng(5).integers(0, 255, 4000, np.uint8).tobytes()
    path.write_bytes(b"MATLAB 5.0 MAT-file, junk".ljust(128, b" ") + junk)
    return path


@dataclass
class Source:
    """One source of the corpus: how to read it, and what must happen to it."""

    source: str  # the reader: csv, utkface, imdb-wiki
    path: Path  # --path
    meta: Path | None = None  # --meta
    good: list[str] = field(default_factory=list)  # files that must be kept
    bad: dict[str, str] = field(default_factory=dict)  # item -> the reason it is skipped with
    # the image files for `agerec predict`: every bad one, and portraits (a real face)
    images: list[Path] = field(default_factory=list)
    fails: str = ""  # a source that must fail as a whole (exit 2): text the error names

    def args(self) -> list[str]:
        out = ["--source", self.source, "--path", str(self.path)]
        return out + (["--meta", str(self.meta)] if self.meta else [])


def bad_image_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Every broken image of the corpus in `folder`: name -> (path, its skip reason)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {"truncated": (truncated_jpeg(folder / "truncated.jpg"), "unreadable"),
            "zero-byte": (zero_byte(folder / "zero.jpg"), "unreadable"),
            "text-as-jpeg": (text_as_jpeg(folder / "text.jpg"), "unreadable"),
            "pixel-bomb": (pixel_bomb(folder / "bomb.png"), "too_large"),
            "1x1": (one_pixel(folder / "tiny.png"), "too_small")}


def csv_source(root: Path, n_good: int = 25) -> Source:
    """A manifest of good photos, every broken image, ages that overflow or are negative,
    and paths that escape the manifest's folder."""
    root.mkdir(parents=True, exist_ok=True)
    lines, good = ["path,age,gender"], []
    for i in range(n_good):
        name = f"good{i:02d}.jpg"
        good_jpeg(root / name, seed=i)
        lines.append(f"{name},{5 + 20 * (i % 5)},{'MF'[(i // 5) % 2]}")
        good.append(str(root / name))
    source = Source("csv", root / "manifest.csv", good=good,
                    images=[portrait(root / "portrait.jpg")])
    broken = bad_image_files(root)
    for path, reason in broken.values():
        lines.append(f"{path.name},30,F")
        source.bad[str(path)] = reason
        source.images.append(path)
    good_jpeg(root.parent / "outside.jpg", seed=50)  # a real photo, but not the manifest's
    rows = {"99999999999999999999999": "bad_age", "-4": "bad_age"}
    for age, reason in rows.items():
        lines.append(f"good00.jpg,{age},M")
        source.bad[f"row {len(lines) - 1}"] = reason
    for escape in ("/etc/hostname", "../outside.jpg"):
        lines.append(f"{escape},30,F")
        source.bad[f"row {len(lines) - 1}"] = "outside_root"
    source.path.write_text("\n".join(lines) + "\n")
    return source


def utkface_source(root: Path, n_good: int = 25) -> Source:
    """A UTKFace folder of good photos and one whose name is not UTF-8."""
    root.mkdir(parents=True, exist_ok=True)
    source = Source("utkface", root)
    for i in range(n_good):
        name = f"{5 + 20 * (i % 5)}_{(i // 5) % 2}_0_2017010915055{i:04d}.jpg.chip.jpg"
        source.good.append(str(good_jpeg(root / name, seed=i)))
    odd = non_utf8_name(root)
    source.bad[printable(odd.name)] = "undecodable_name"  # as the report shows it: \xff
    source.images = [odd]
    return source


def failing_sources(root: Path) -> list[Source]:
    """Sources that must fail as a whole, exit 2 naming the problem: empty and junk .mat
    files, a Latin-1 manifest, and a folder where no image is usable."""
    root.mkdir(parents=True, exist_ok=True)
    latin = root / "latin1.csv"
    good_jpeg(root / "b\u00e9b\u00e9.jpg")
    latin.write_bytes("path,age,gender\nb\u00e9b\u00e9.jpg,1,F\n".encode("latin-1"))
    nothing = root / "nothing"
    broken = bad_image_files(nothing)
    return [Source("imdb-wiki", root, meta=empty_mat(root / "empty.mat"),
                   fails="empty.mat is not a readable MATLAB .mat file"),
            Source("imdb-wiki", root, meta=junk_mat(root / "junk.mat"),
                   fails="junk.mat is not a readable MATLAB .mat file"),
            Source("csv", latin, fails="latin1.csv is not UTF-8 text"),
            Source("utkface", nothing, fails="no usable",
                   bad={str(path): reason for path, reason in broken.values()},
                   images=[path for path, _ in broken.values()])]
