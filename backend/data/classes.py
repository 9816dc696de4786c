"""Age classes: bin integer ages into the paper's age groups.

A scheme is a tuple of edges; class i holds ages with edges[i] <= age < edges[i+1].

- "5" is the paper's scheme (section 3.1): 1-19, 20-39, 40-59, 60-79, 80-99.
- "8" is our choice, since the paper does not list its eight bins: ten-year bins
  1-9, 10-19, ..., 60-69, then one 70-99 bin. Decades split the paper's 20-year
  classes in two where most photos are (the paper names 40-59 as too broad), and
  the sparse ages from 70 to 99 stay one class so it is not nearly empty after the
  60% cap. Both schemes cover the same ages 1-99, so the same photos are kept.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np

from backend.params import InvalidParameterError, check_int

SCHEMES: dict[str, tuple[int, ...]] = {
    "5": (1, 20, 40, 60, 80, 100),
    "8": (1, 10, 20, 30, 40, 50, 60, 70, 100),
}

MAX_AGE_EDGE = 200
_ALLOWED = (
    f"one of {sorted(SCHEMES)} or strictly increasing integer age edges "
    f"(first >= 0, last <= {MAX_AGE_EDGE}, at least 2 classes) as a list or comma string"
)


@dataclass(frozen=True)
class ClassScheme:
    """Age classes given by their edges: class i is edges[i] <= age < edges[i+1]."""

    edges: tuple[int, ...]

    def __post_init__(self) -> None:
        # Validate here too, so a scheme built directly is as safe as scheme_from's.
        object.__setattr__(self, "edges", _parse_edges(self.edges, self.edges))

    @property
    def n_classes(self) -> int:
        return len(self.edges) - 1

    @property
    def labels(self) -> tuple[str, ...]:
        """Inclusive age ranges, e.g. ('1-19', '20-39', ...)."""
        return tuple(f"{lo}-{hi - 1}" for lo, hi in zip(self.edges[:-1], self.edges[1:]))

    def assign(self, ages: Any) -> np.ndarray:
        """Class index of each age, -1 for ages outside [edges[0], edges[-1])."""
        ages = np.asarray(ages)
        # side='right' puts an age equal to an edge into the class that edge opens.
        classes = np.searchsorted(np.asarray(self.edges), ages, side="right") - 1
        outside = (ages < self.edges[0]) | (ages >= self.edges[-1])
        return np.where(outside, -1, classes).astype(np.int64)

    def to_dict(self) -> dict[str, list]:
        return {"edges": list(self.edges), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassScheme:
        """Rebuild from to_dict(); only the edges are read, the labels follow from them."""
        if not isinstance(data, dict) or "edges" not in data:
            raise InvalidParameterError("classes", "ClassScheme.from_dict",
                                        "a dict with an 'edges' list", data)
        return cls(tuple(data["edges"]))


def scheme_from(spec: Any) -> ClassScheme:
    """A ClassScheme from "5", "8", 5, 8, a ClassScheme, or explicit edges
    (a list/tuple of ints or a comma string such as "1,20,40,60,80,100")."""
    if isinstance(spec, ClassScheme):
        return spec
    # A bare scheme name: the int 5 or 8 or its string.
    if isinstance(spec, Integral) and not isinstance(spec, bool):
        key = str(int(spec))
    elif isinstance(spec, str) and "," not in spec:
        key = spec.strip()
    else:
        key = None
    if key is not None:
        if key not in SCHEMES:
            raise InvalidParameterError("classes", "scheme_from", _ALLOWED, spec)
        return ClassScheme(SCHEMES[key])
    return ClassScheme(_parse_edges(spec, spec))


def _parse_edges(edges: Any, shown: Any) -> tuple[int, ...]:
    """Edges as a tuple of ints, or InvalidParameterError showing `shown`."""
    if isinstance(edges, str):
        edges = [part.strip() for part in edges.split(",")]
    if not isinstance(edges, (Sequence, np.ndarray)):
        raise InvalidParameterError("classes", "scheme_from", _ALLOWED, shown)
    try:
        parsed = tuple(check_int(e, param="classes", func="scheme_from") for e in edges)
    except InvalidParameterError:
        # Report the whole spec, not just the one bad edge.
        raise InvalidParameterError("classes", "scheme_from", _ALLOWED, shown) from None
    ok = (
        len(parsed) >= 3
        and parsed[0] >= 0
        and parsed[-1] <= MAX_AGE_EDGE
        and all(a < b for a, b in zip(parsed[:-1], parsed[1:]))
    )
    if not ok:
        raise InvalidParameterError("classes", "scheme_from", _ALLOWED, shown)
    return parsed

