"""The labelled-image record every dataset reader returns, and its skip report."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

GENDERS = ("M", "F")


@dataclass(frozen=True)
class LabelledImage:
    """One photo with its labels. `gender` is 'M', 'F' or None when unknown."""

    path: str
    age: int
    gender: str | None
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


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
