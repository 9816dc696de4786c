"""The labelled-image record every dataset reader returns, and its skip report."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENDERS = ("M", "F")
GROUP_PREFIX = "group_"  # a prepared manifest's column group_<attribute> holds a group label


@dataclass(frozen=True)
class LabelledImage:
    """One photo with its labels. `gender` is 'M', 'F' or None when unknown; `groups`
    holds the other groups of people it belongs to ({'race': 'Asian'}), by attribute,
    for the per-group results (an empty label is unknown)."""

    path: str
    age: int
    gender: str | None
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    groups: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


def group_columns(records: Sequence[LabelledImage]) -> dict[str, list[str]]:
    """{'group_<attribute>': one label per record ('' where a record lacks it)} for every
    group attribute any of the records has, in first-seen order."""
    attributes = list(dict.fromkeys(a for r in records for a in r.groups))
    return {f"{GROUP_PREFIX}{a}": [str(r.groups.get(a) or "") for r in records]
            for a in attributes}


@dataclass(frozen=True)
class Skipped:
    """One item a step left out: what it was, a short reason key, and the detail."""

    item: str
    reason: str
    detail: str


@dataclass
class ReadResult:
    """What a reader returns: the usable records and every skipped item."""

    records: list[LabelledImage]
    skipped: list[Skipped]
    repaired: list[Skipped] = field(default_factory=list)  # kept after fixing, e.g. a malformed name

    def skipped_counts(self) -> dict[str, int]:
        """Count skipped items per reason key."""
        return dict(Counter(s.reason for s in self.skipped))


MAX_AGE = 150  # years; a larger age in a label file is a typo or junk, never a person


def printable(text: str) -> str:
    """`text` safe to write as UTF-8 (CSV, JSON, a database): the bytes of a file name
    that were not UTF-8, which Python holds as surrogates, become \\xNN escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def undecodable(name: str, item: str | None = None) -> Skipped | None:
    """The skip record of a file name that is not valid UTF-8 (it could not be written to
    the dataset's CSV files), or None when the name is fine."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = printable(name)
        return Skipped(printable(item) if item else shown, "undecodable_name",
                       f"the file name '{shown}' is not valid UTF-8 (its bytes are shown as "
                       "\\x escapes); rename the file to keep it")
    return None


def inside_root(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """Whether `path`, with '..' resolved, lies under `root` (an absolute path outside
    it, or one climbing out with '..', does not)."""
    return Path(os.path.normpath(path)).is_relative_to(os.path.normpath(root))


def printable_skip(skip: Skipped) -> Skipped:
    """`skip` with its item and detail made printable."""
    return Skipped(printable(skip.item), skip.reason, printable(skip.detail))
