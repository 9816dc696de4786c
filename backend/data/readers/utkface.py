"""UTKFace reader: the labels are in file names AGE_GENDER_RACE_DATETIME.jpg.chip.jpg."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from backend.data.labelled_images import LabelledImage, ReadResult, Skipped, undecodable

RACES = ("White", "Black", "Asian", "Indian", "Others")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PATTERN = "AGE_GENDER_RACE_DATETIME.jpg.chip.jpg"

_GENDERS = {"0": "M", "1": "F"}
_NAME = re.compile(
    r"^(?P<age>\d+)_(?P<gender>\d+)(?:_(?P<race>\d+))?_(?P<datetime>\d+)\.jpg\.chip\.jpg$"
)
# Spelling slips seen in the published names: (what to find, replacement, what was fixed).
_SPELLING_FIXES = (
    (re.compile(r"\s+(?=\.jpg\.chip\.jpg$)"), "", "removed the whitespace before '.jpg'"),
    (re.compile(r"(?<=\d)jpg\.chip\.jpg$"), ".jpg.chip.jpg",
     "restored the missing dot before 'jpg'"),
)


def read_utkface(root: str | os.PathLike) -> ReadResult:
    """Read every image in the UTKFace folder `root`; repair or skip malformed names."""
    root = Path(root).resolve()
    result = ReadResult(records=[], skipped=[], repaired=[])
    for name in list_images(root):
        bad = undecodable(name)
        if bad is not None:
            result.skipped.append(bad)
            continue
        outcome = parse_name(name)
        if isinstance(outcome, Skipped):
            result.skipped.append(outcome)
            continue
        labels, fixes = outcome
        result.records.append(_record(root / name, labels))
        if fixes:
            detail = f"file name {name!r}: " + "; ".join(fixes)
            result.repaired.append(Skipped(item=name, reason="malformed_name", detail=detail))
    return result


def list_images(folder: Path) -> list[str]:
    """Names of the image files directly inside `folder`, sorted (other files are ignored)."""
    # scandir gives the file type without one stat per file.
    with os.scandir(folder) as entries:
        names = [e.name for e in entries
                 if e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(names)


def parse_name(name: str) -> tuple[dict[str, Any], list[str]] | Skipped:
    """The labels in one file name and the repairs it needed, or why it was skipped."""
    fixed, fixes = _fix_spelling(name)
    match = _NAME.match(fixed)
    if match is None:
        return Skipped(name, "malformed_name",
                       f"file name {name!r} does not follow {PATTERN}")
    age, gender, race, stamp = match.group("age", "gender", "race", "datetime")
    # Without a valid gender the label is ambiguous, so the file cannot be kept.
    if gender not in _GENDERS:
        return Skipped(name, "bad_gender",
                       f"gender field {gender!r} in {name!r} is not one of 0 (male), 1 (female)")
    # Three fields before the date: the published names lack the race, not the gender.
    if race is None:
        fixes.append("the race field is missing (read as AGE_GENDER_DATETIME); race set to None")
    elif int(race) >= len(RACES):
        fixes.append(f"race {race} is not one of 0-{len(RACES) - 1}; race set to None")
        race = None
    labels = {"age": int(age), "gender": _GENDERS[gender],
              "race": None if race is None else int(race), "datetime": stamp}
    return labels, fixes


def _fix_spelling(name: str) -> tuple[str, list[str]]:
    """Apply each known spelling fix to `name`, listing the ones that changed it."""
    fixes = []
    for pattern, replacement, what in _SPELLING_FIXES:
        name, count = pattern.subn(replacement, name)
        if count:
            fixes.append(what)
    return name, fixes


def _record(path: Path, labels: dict[str, Any]) -> LabelledImage:
    """One LabelledImage with race, race name and capture time as extras, and the race
    name as its 'race' group ('' when the name lacks it)."""
    race = labels["race"]
    race_name = None if race is None else RACES[race]
    extras = {"race": race, "race_name": race_name, "datetime": labels["datetime"]}
    return LabelledImage(path=str(path), age=labels["age"], gender=labels["gender"],
                         extras=extras, groups={"race": race_name or ""})
