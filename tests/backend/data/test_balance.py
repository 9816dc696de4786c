"""Tests for the gender rebalancing, the class cap, the stratified split and the summary."""
import math

import numpy as np
import pytest

from backend.data.balance import (downsample, rebalance_gender, split_counts, stratified_split,
                                  summarize)
from backend.params import InvalidParameterError


@pytest.fixture
def skewed():
    """3 classes of 100, 40 and 20 items, 70% male, plus 5 unknown genders and 5 outside items."""
    classes, genders = [], []
    for c, size in enumerate([100, 40, 20]):
        males = round(0.7 * size)
        classes += [c] * size
        genders += ["M"] * males + ["F"] * (size - males)
    classes += [0] * 5 + [-1] * 5
    genders += [None] * 5 + ["M", "F", "M", "F", "M"]
    order = np.random.default_rng(42).permutation(len(classes))
    return np.array(classes)[order], np.array(genders, dtype=object)[order]


def test_rebalance_makes_every_class_exactly_half_male(skewed):
    """Check that after rebalancing each class keeps min(#M, #F) of each gender."""
    classes, genders = skewed
    kept = rebalance_gender(classes, genders, seed=0)
    per_class = {c: (int(np.sum((classes[kept] == c) & (genders[kept] == "M"))),
                     int(np.sum((classes[kept] == c) & (genders[kept] == "F")))) for c in range(3)}
    assert per_class == {0: (30, 30), 1: (12, 12), 2: (6, 6)}


def test_rebalance_drops_unknown_gender_and_outside_items(skewed):
    """Check that items with gender None or class -1 are not kept."""
    classes, genders = skewed
    kept = rebalance_gender(classes, genders, seed=0)
    assert len(kept) == 96
    assert not np.any(classes[kept] < 0) and None not in set(genders[kept])


def test_rebalance_is_deterministic_for_a_seed(skewed):
    """Check that one seed gives the same indices and another seed different ones."""
    classes, genders = skewed
    first = rebalance_gender(classes, genders, seed=3)
    assert np.array_equal(first, rebalance_gender(classes, genders, seed=3))
    assert not np.array_equal(first, rebalance_gender(classes, genders, seed=4))


def test_downsample_caps_every_class_at_the_floor_of_the_mean_share(skewed):
    """Check that every class keeps at most floor(0.6 x mean class size) items."""
    classes, genders = skewed
    balanced = rebalance_gender(classes, genders, seed=0)
    kept = downsample(classes[balanced], fraction=0.6, seed=0)
    sizes = np.bincount(classes[balanced][kept], minlength=3)
    cap = math.floor(0.6 * (60 + 24 + 12) / 3)
    assert cap == 19 and sizes.tolist() == [19, 19, 12]


def test_downsample_with_genders_keeps_capped_classes_half_male(skewed):
    """Check that with genders a capped class keeps exactly floor(cap/2) of each gender."""
    classes, genders = skewed
    balanced = rebalance_gender(classes, genders, seed=0)
    c, g = classes[balanced], genders[balanced]
    kept = downsample(c, fraction=0.6, seed=0, genders=g)
    counts = {k: (int(np.sum((c[kept] == k) & (g[kept] == "M"))),
                  int(np.sum((c[kept] == k) & (g[kept] == "F")))) for k in range(3)}
    assert counts == {0: (9, 9), 1: (9, 9), 2: (6, 6)}


def test_downsample_mean_is_over_non_empty_classes():
    """Check that empty classes do not lower the cap (classes 0 and 2 only: cap 12, not 4)."""
    classes = np.array([0] * 10 + [2] * 30)
    kept = downsample(classes, fraction=0.6, seed=0)
    assert np.bincount(classes[kept], minlength=5).tolist() == [10, 0, 12, 0, 0]


def test_downsample_keeps_uncapped_classes_whole():
    """Check that a class under the cap keeps all its items, unknown genders included."""
    classes = np.array([0] * 4 + [1] * 40)
    genders = np.array([None, "M", "F", "F"] + ["M", "F"] * 20, dtype=object)
    kept = downsample(classes, fraction=0.6, seed=0, genders=genders)
    assert kept[:4].tolist() == [0, 1, 2, 3] and len(kept) == 4 + 12


def test_downsample_is_deterministic_for_a_seed():
    """Check that one seed gives the same indices and another seed different ones."""
    classes = np.array([0] * 50 + [1] * 10)
    first = downsample(classes, seed=1)
    assert np.array_equal(first, downsample(classes, seed=1))
    assert not np.array_equal(first, downsample(classes, seed=2))


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, "half"])
def test_downsample_rejects_bad_fraction(fraction):
    """Check that a fraction outside (0, 1] raises naming 'fraction' and the value."""
    with pytest.raises(InvalidParameterError, match=f"'fraction'.*{fraction!r}"):
        downsample(np.array([0, 1]), fraction=fraction)


def test_split_counts_use_largest_remainder():
    """Check that 7 items split 80/10/10 give 5/1/1 (remainders 0.6 < 0.7 = 0.7)."""
    assert split_counts(7, (0.8, 0.1, 0.1)).tolist() == [5, 1, 1]


@pytest.mark.parametrize("sizes", [[18, 18, 12], [7, 13, 101], [1, 2, 3]])
def test_split_is_within_one_item_of_each_fraction_per_class(sizes):
    """Check that every split holds within one item of fraction x class size, per class."""
    classes = np.repeat(np.arange(len(sizes)), sizes)
    splits = stratified_split(classes, seed=0)
    for c, n in enumerate(sizes):
        for name, f in zip(("train", "val", "test"), (0.8, 0.1, 0.1)):
            assert abs(np.sum((classes == c) & (splits == name)) - f * n) < 1
    assert set(splits.tolist()) <= {"train", "val", "test"}


def test_split_is_deterministic_for_a_seed():
    """Check that one seed gives the same split and another seed a different one."""
    classes = np.repeat([0, 1], 30)
    first = stratified_split(classes, seed=5)
    assert np.array_equal(first, stratified_split(classes, seed=5))
    assert not np.array_equal(first, stratified_split(classes, seed=6))


def test_split_rejects_items_outside_the_scheme():
    """Check that a class -1 raises naming 'classes' and the value."""
    with pytest.raises(InvalidParameterError, match="'classes'.*-1"):
        stratified_split(np.array([0, 1, -1]))


@pytest.mark.parametrize("fractions", [(0.8, 0.2), (0.8, 0.1, 0.2), (1.2, -0.1, -0.1)])
def test_split_rejects_bad_fractions(fractions):
    """Check that fractions that are not three shares summing to 1 raise naming 'fractions'."""
    with pytest.raises(InvalidParameterError) as info:
        stratified_split(np.array([0, 1]), fractions=fractions)
    assert "'fractions'" in str(info.value) and repr(fractions) in str(info.value)


def test_summarize_counts_every_class_with_string_keys():
    """Check that the summary lists every class of the scheme, empty ones as 0."""
    classes = np.array([0, 0, 0, 2])
    genders = np.array(["M", "F", None, "F"], dtype=object)
    splits = np.array(["train", "train", "val", "test"])
    assert summarize(classes, genders, splits, n_classes=3) == {
        "splits": {"train": {"0": 2, "1": 0, "2": 0},
                   "val": {"0": 1, "1": 0, "2": 0},
                   "test": {"0": 0, "1": 0, "2": 1}},
        "gender_by_class": {"0": {"M": 1, "F": 1}, "1": {"M": 0, "F": 0}, "2": {"M": 0, "F": 1}},
    }


def test_summarize_rejects_a_class_outside_the_scheme():
    """Check that a class index >= n_classes raises naming 'classes' and the value."""
    with pytest.raises(InvalidParameterError, match="'classes'.*3"):
        summarize(np.array([3]), np.array(["M"], dtype=object), np.array(["train"]), n_classes=3)


def test_empty_string_and_nan_count_as_unknown_gender():
    """Check that '' and NaN genders are dropped by rebalancing and not counted by summarize."""
    classes = np.array([0, 0, 0, 0])
    genders = np.array(["M", "F", "", float("nan")], dtype=object)
    assert rebalance_gender(classes, genders, seed=0).tolist() == [0, 1]
    summary = summarize(classes, genders, np.array(["train"] * 4), n_classes=1)
    assert summary["gender_by_class"] == {"0": {"M": 1, "F": 1}}


def test_rebalance_rejects_unknown_gender_value():
    """Check that a gender other than 'M', 'F' or None raises naming 'genders' and the value."""
    with pytest.raises(InvalidParameterError, match="'genders'.*'X'"):
        rebalance_gender(np.array([0, 0]), np.array(["M", "X"], dtype=object), seed=0)
