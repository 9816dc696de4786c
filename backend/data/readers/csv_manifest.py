"""CSV manifest reader: columns path, age, gender; any other column (race, skin_tone...)
becomes an extra and a group attribute of the per-group results."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from backend.data.labelled_images import MAX_AGE, LabelledImage, ReadResult, Skipped, inside_root

REQUIRED = ("path", "age", "gender")
GENDER_WORDS = {"m": "M", "male": "M", "f": "F", "female": "F", "": None}


def read_csv_manifest(csv_path: str | os.PathLike,
                      root: str | os.PathLike | None = None) -> ReadResult:
    """Read a manifest; relative paths resolve against `root`, else the CSV's folder.
    A row whose image lies outside that folder (an absolute path elsewhere, or '..'
    climbing out) is skipped as 'outside_root'."""
    csv_path = Path(csv_path).resolve()
    base = csv_path.parent if root is None else Path(root).resolve()
    result = ReadResult(records=[], skipped=[])
    reader = csv.DictReader(io.StringIO(read_text(csv_path), newline=""))
    check_columns(reader.fieldnames, csv_path)
    for number, row in enumerate(reader, start=1):
        where = f"row {number} (line {reader.line_num} of {csv_path.name})"
        outcome = parse_row(row, base, item=f"row {number}", where=where)
        if isinstance(outcome, Skipped):
            result.skipped.append(outcome)
        else:
            result.records.append(outcome)
    return result


def read_text(csv_path: Path) -> str:
    """The manifest's text, decoded as UTF-8 (a byte-order mark, as spreadsheet programs
    write it, is dropped); ValueError naming the file, the line and the encoding expected
    when it is in another encoding, such as Latin-1."""
    raw = csv_path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ValueError(f"{csv_path} is not UTF-8 text: byte {raw[error.start]:#04x} on line "
                         f"{line} is not valid UTF-8 (a Latin-1 or Windows-1252 file?); save "
                         "the manifest as UTF-8 (in a spreadsheet: 'CSV UTF-8')") from None


def check_columns(fieldnames: list[str] | None, csv_path: Path) -> None:
    """Raise ValueError naming the required columns the header lacks."""
    missing = [name for name in REQUIRED if name not in (fieldnames or [])]
    if missing:
        raise ValueError(f"{csv_path} lacks the columns {missing}; a manifest needs "
                         f"{list(REQUIRED)} (found {list(fieldnames or [])})")


def parse_row(row: dict[Any, Any], base: Path, *, item: str,
              where: str) -> LabelledImage | Skipped:
    """One manifest row as a record, or why it is skipped (`where` locates it in details)."""
    # DictReader files surplus fields under the key None.
    if None in row:
        return Skipped(item, "bad_row",
                       f"{where}: has more fields than the header's {len(row) - 1}")
    text = {name: (row[name] or "").strip() for name in REQUIRED}
    if not text["path"]:
        return Skipped(item, "bad_path", f"{where}: path is empty; give an image file path")
    age = parse_age(text["age"])
    if age is None:
        return Skipped(item, "bad_age", f"{where}: age {text['age']!r} is not a whole number "
                       f"in [0, {MAX_AGE}]")
    if text["gender"].lower() not in GENDER_WORDS:
        return Skipped(item, "bad_gender", f"{where}: gender {text['gender']!r} is not one of "
                       "M, F, male, female (any case) or empty")
    path = base / text["path"]
    if not inside_root(path, base):
        return Skipped(item, "outside_root", f"{where}: image {text['path']!r} is outside the "
                       f"manifest's folder {str(base)!r}; paths must stay inside it")
    if not path.is_file():
        return Skipped(item, "missing_file", f"{where}: image {str(path)!r} does not exist")
    extras = {key: value for key, value in row.items() if key not in REQUIRED}
    groups = {str(key).strip(): (value or "").strip() for key, value in extras.items()
              if str(key).strip()}
    return LabelledImage(path=str(path), age=age, gender=GENDER_WORDS[text["gender"].lower()],
                         extras=extras, groups=groups)


def parse_age(text: str) -> int | None:
    """`text` as a whole number of years in [0, MAX_AGE] ('23' or '23.0'), else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    # inf and nan are not integers; 1e23 is, but no one's age.
    if not value.is_integer() or not 0 <= value <= MAX_AGE:
        return None
    return int(value)
