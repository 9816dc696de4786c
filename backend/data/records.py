"""The labelled-image record every dataset reader returns, and its skip report."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Sequence
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
