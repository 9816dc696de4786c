"""The paper's balancing steps (section 3.1) as pure, seeded functions of arrays.

`classes` is an int array of class indices (-1 = outside the scheme), `genders` an
array of 'M', 'F' or unknown (None, '' or NaN, as manifests and pandas write it). Each step returns indices into its inputs (or one split
name per item), so the caller applies it to images, ages and paths alike. The same
seed always gives the same result: every step draws from
`np.random.default_rng(seed)`, visiting the classes in increasing order.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from backend.data.labelled_images import GENDERS
from backend.params import InvalidParameterError, check_float, check_int

SPLITS = ("train", "val", "test")


def rebalance_gender(classes: Any, genders: Any, seed: int = 0) -> np.ndarray:
    """Sorted indices kept so that every class holds exactly as many 'M' as 'F'.

    Inside each class, min(#M, #F) items of each gender are drawn at random. Items
    of unknown gender, and items outside the scheme (class -1), are dropped.
    """
    classes = _as_classes(classes, "rebalance_gender")
    genders = _as_genders(genders, len(classes), "rebalance_gender")
    seed = check_int(seed, param="seed", func="rebalance_gender", low=0)
    rng = np.random.default_rng(seed)
    kept = []
    for c in np.unique(classes[classes >= 0]):
        males = np.flatnonzero((classes == c) & (genders == "M"))
        females = np.flatnonzero((classes == c) & (genders == "F"))
        # The smaller gender sets how many of each this class can keep.
        k = min(len(males), len(females))
        kept += [rng.choice(males, k, replace=False), rng.choice(females, k, replace=False)]
    return _sorted(kept)


def downsample(classes: Any, fraction: float = 0.6, seed: int = 0,
               genders: Any = None) -> np.ndarray:
    """Sorted indices kept after capping every class at floor(fraction x mean class size).

    The mean is over the non-empty classes only (an age band with no photos would
    otherwise lower the cap). A class larger than the cap is cut to it at random;
    smaller classes are kept whole. With `genders`, a capped class keeps
    floor(cap/2) of each gender (fewer if one gender has fewer), so it stays 50/50
    and holds 2*floor(cap/2) items; its items of unknown gender are dropped.
    Items outside the scheme (class -1) are dropped.
    """
    classes = _as_classes(classes, "downsample")
    fraction = check_float(fraction, param="fraction", func="downsample", low=0.0, high=1.0)
    if fraction == 0.0:
        raise InvalidParameterError("fraction", "downsample", "a number in (0, 1]", fraction)
    seed = check_int(seed, param="seed", func="downsample", low=0)
    genders = None if genders is None else _as_genders(genders, len(classes), "downsample")
    rng = np.random.default_rng(seed)
    present, sizes = np.unique(classes[classes >= 0], return_counts=True)
    if len(present) == 0:
        return np.empty(0, dtype=np.int64)
    # Round before floor so float noise (0.6*50 = 29.999...) cannot lose an item.
    cap = math.floor(round(fraction * sizes.sum() / len(present), 9))
    kept = []
    for c, size in zip(present, sizes):
        members = np.flatnonzero(classes == c)
        if size <= cap:
            kept.append(members)
        elif genders is None:
            kept.append(rng.choice(members, cap, replace=False))
        else:
            # Equal halves keep a gender-balanced class balanced after the cut.
            males = members[genders[members] == "M"]
            females = members[genders[members] == "F"]
            half = min(cap // 2, len(males), len(females))
            kept += [rng.choice(males, half, replace=False),
                     rng.choice(females, half, replace=False)]
    return _sorted(kept)


def stratified_split(classes: Any, fractions: Any = (0.8, 0.1, 0.1),
                     seed: int = 0) -> np.ndarray:
    """One split name ('train', 'val' or 'test') per item, stratified by class.

    In a class of n items, split s gets floor(f_s x n) items plus one of the
    leftovers by largest remainder, so its count is within one item of f_s x n.
    Items are shuffled inside their class before they are dealt out.
    """
    classes = _as_classes(classes, "stratified_split")
    if np.any(classes < 0):
        bad = int(classes[classes < 0][0])
        raise InvalidParameterError("classes", "stratified_split",
                                    "class indices >= 0 (drop items outside the scheme first)", bad)
    fractions = _check_fractions(fractions)
    seed = check_int(seed, param="seed", func="stratified_split", low=0)
    rng = np.random.default_rng(seed)
    splits = np.empty(len(classes), dtype="<U5")
    for c in np.unique(classes):
        members = rng.permutation(np.flatnonzero(classes == c))
        counts = split_counts(len(members), fractions)
        # Deal the shuffled members out in split order: train, val, test.
        splits[members] = np.repeat(SPLITS, counts)
    return splits


def split_counts(n: int, fractions: tuple[float, float, float]) -> np.ndarray:
    """Items per split for a class of n, by the largest-remainder method."""
    # Round before floor so float noise (0.1*30 = 3.0000000000000004) is not a remainder.
    ideal = np.round(np.asarray(fractions) * n, 9)
    counts = np.floor(ideal).astype(np.int64)
    # Hand the leftover items to the splits that lost most to the floor (stable: earlier first).
    order = np.argsort(-(ideal - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def summarize(classes: Any, genders: Any, splits: Any, n_classes: int) -> dict[str, dict]:
    """Counts per split and class, and per class and gender; every class appears.

    Returns {"splits": {"train": {"0": n, ...}, "val": ..., "test": ...},
    "gender_by_class": {"0": {"M": n, "F": n}, ...}} with string class keys.
    """
    n_classes = check_int(n_classes, param="n_classes", func="summarize", low=1)
    classes = _as_classes(classes, "summarize")
    genders = _as_genders(genders, len(classes), "summarize")
    splits = np.asarray(splits)
    if splits.shape != classes.shape:
        raise InvalidParameterError("splits", "summarize",
                                    f"one split name per item ({len(classes)})", splits.shape)
    outside = (classes < 0) | (classes >= n_classes)
    if np.any(outside):
        raise InvalidParameterError("classes", "summarize",
                                    f"class indices in [0, {n_classes - 1}]",
                                    int(classes[outside][0]))

    def count(mask: np.ndarray) -> dict[str, int]:
        counts = np.bincount(classes[mask], minlength=n_classes)
        return {str(c): int(n) for c, n in enumerate(counts)}

    return {
        "splits": {s: count(splits == s) for s in SPLITS},
        "gender_by_class": {
            str(c): {g: int(np.sum((classes == c) & (genders == g))) for g in GENDERS}
            for c in range(n_classes)
        },
    }


def _as_classes(classes: Any, func: str) -> np.ndarray:
    """Class indices as a 1-D int64 array."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidParameterError("classes", func, "a 1-D array of integer class indices",
                                    f"array of shape {arr.shape} and dtype {arr.dtype}")
    return arr.astype(np.int64)


def _as_genders(genders: Any, n: int, func: str) -> np.ndarray:
    """Genders as a 1-D object array of 'M', 'F' or None, one per item."""
    arr = np.asarray(genders, dtype=object)
    if arr.shape != (n,):
        raise InvalidParameterError("genders", func, f"one gender per item ({n})", arr.shape)
    # '' and NaN are how a manifest or a DataFrame spells an unknown gender.
    unknown = np.array([g is None or g == "" or (isinstance(g, float) and g != g) for g in arr],
                       dtype=bool)
    bad = [g for g in arr[~unknown] if g not in GENDERS]
    if bad:
        raise InvalidParameterError("genders", func, "'M', 'F' or unknown (None, '', NaN)", bad[0])
    arr = arr.copy()
    arr[unknown] = None
    return arr


def _check_fractions(fractions: Any) -> tuple[float, float, float]:
    """Three fractions in [0, 1] that sum to 1 (within 1e-6), rescaled to sum to exactly 1."""
    values = tuple(fractions) if isinstance(fractions, (list, tuple, np.ndarray)) else ()
    allowed = "three numbers in [0, 1] for (train, val, test) that sum to 1"
    if len(values) != 3:
        raise InvalidParameterError("fractions", "stratified_split", allowed, fractions)
    try:
        values = tuple(check_float(f, param="fractions", func="stratified_split", low=0.0, high=1.0)
                       for f in values)
    except InvalidParameterError:
        raise InvalidParameterError("fractions", "stratified_split", allowed, fractions) from None
    if abs(sum(values) - 1.0) > 1e-6:
        raise InvalidParameterError("fractions", "stratified_split", allowed, fractions)
    # Rescale so the per-split floors can never add up to more than the class.
    total = sum(values)
    return tuple(v / total for v in values)


def _sorted(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenated indices in increasing order (int64, empty when nothing is kept)."""
    if not parts:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.concatenate(parts)).astype(np.int64)
