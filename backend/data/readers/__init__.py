"""Dataset readers, one per source, each returning a ReadResult; `read_source` picks one."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from backend.data.readers.csv_manifest import read_csv_manifest
from backend.data.readers.fgnet import read_fgnet
from backend.data.readers.imdb_wiki import read_imdb_wiki
from backend.data.readers.utkface import read_utkface
from backend.data.labelled_images import ReadResult, printable_skip, undecodable
from backend.params import InvalidParameterError, check_choice

SOURCES = ("utkface", "imdb-wiki", "fgnet", "csv")

# Sources whose labels live in a separate file that `meta` may name.
_WITH_META = ("imdb-wiki", "csv")

__all__ = ["SOURCES", "read_source", "read_utkface", "read_imdb_wiki", "read_fgnet",
           "read_csv_manifest"]


def read_source(source: str, path: str | os.PathLike, meta: str | os.PathLike | None = None,
                **options: Any) -> ReadResult:
    """Read one source. `path` is the image folder, or for imdb-wiki/csv the label file
    itself; with `meta` (the .mat or the CSV), `path` is the folder images resolve against."""
    check_choice(source, SOURCES, param="source", func="read_source")
    path = _existing(path, "path")
    if meta is not None and source not in _WITH_META:
        allowed = f"None for source {source!r} (its labels are in the file names)"
        raise InvalidParameterError("meta", "read_source", allowed, meta)
    meta = None if meta is None else _existing(meta, "meta")
    # Without meta, the label file itself is the path; a folder means meta was forgotten.
    if source in _WITH_META and meta is None and path.is_dir():
        raise InvalidParameterError("path", "read_source", f"the label file for source {source!r}"
                                    " (or an image folder with the label file as meta)", str(path))
    if source == "utkface":
        result = read_utkface(path, **options)
    elif source == "fgnet":
        result = read_fgnet(path, **options)
    elif source == "imdb-wiki":
        result = (read_imdb_wiki(path, **options) if meta is None
                  else read_imdb_wiki(meta, image_root=path, **options))
    else:
        result = (read_csv_manifest(path, **options) if meta is None
                  else read_csv_manifest(meta, root=path, **options))
    return _printable(result)


def _printable(result: ReadResult) -> ReadResult:
    """`result` with every name safe to write: a record whose path is not valid UTF-8 is
    skipped as 'undecodable_name', and skipped or repaired items are shown with escapes."""
    records, skipped = [], [printable_skip(s) for s in result.skipped]
    for record in result.records:
        bad = undecodable(record.path)
        if bad is None:
            records.append(record)
        else:
            skipped.append(bad)
    return ReadResult(records=records, skipped=skipped,
                      repaired=[printable_skip(r) for r in result.repaired])


def _existing(value: str | os.PathLike, param: str) -> Path:
    """`value` as a Path, or FileNotFoundError naming the parameter and the path."""
    path = Path(value)
    if not path.exists():
        raise FileNotFoundError(f"The {param!r} parameter of read_source names {str(path)!r}, "
                                "which does not exist.")
    return path
