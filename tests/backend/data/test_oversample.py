"""Oversampling plans: which faces are copied, how evenly, and which test rows leak."""
from __future__ import annotations

import numpy as np
import pytest

from backend.data.oversample import copy_sources, fill_copies, leaked_rows
from backend.params import InvalidParameterError


def test_fill_copies_brings_every_class_to_the_target():
    """Check that originals plus copies hold exactly `target` items in each short class."""
    classes = np.array([0] * 10 + [1] * 4 + [2] * 7)
    copied = fill_copies(classes, 10, seed=1)
    totals = np.bincount(np.concatenate([classes, classes[copied]]))
    assert totals.tolist() == [10, 10, 10]


def test_fill_copies_spreads_copies_evenly_over_a_class():
    """Check that 10 copies of 4 faces copy each face 2 or 3 times, never 0 or 4."""
    classes = np.array([0] * 4)
    times = np.bincount(fill_copies(classes, 14, seed=0), minlength=4)
    assert sorted(times.tolist()) == [2, 2, 3, 3]


def test_fill_copies_counts_and_copies_only_eligible_items():
    """Check that with eligible=train only train items are copied, up to `target` train items."""
    classes = np.array([0] * 8 + [1] * 8)
    train = np.array([True] * 6 + [False] * 2 + [True] * 3 + [False] * 5)
    copied = fill_copies(classes, 6, seed=0, eligible=train)
    assert train[copied].all() and np.bincount(classes[copied]).tolist() == [0, 3]


def test_fill_copies_is_seeded():
    """Check that one seed gives one plan and another seed a different one."""
    classes = np.array([0] * 20 + [1] * 3)
    assert np.array_equal(fill_copies(classes, 20, seed=5), fill_copies(classes, 20, seed=5))
    plans = {tuple(fill_copies(classes, 21, seed=s)) for s in range(5)}
    assert len(plans) > 1


def test_fill_copies_rejects_float_classes():
    """Check that class labels given as floats are refused naming 'classes'."""
    with pytest.raises(InvalidParameterError, match="'classes' parameter of fill_copies"):
        fill_copies(np.array([0.5, 1.0]), 3)


def test_leaked_rows_are_test_faces_with_a_copy_or_original_in_train():
    """Check that a test copy of a train face and a test original copied into train leak,
    while a test face with no trace in train does not."""
    # rows 0-2 originals (train, test, test); 3 copies row 0 (test), 4 copies row 1 (train)
    splits = np.array(["train", "test", "test", "test", "train"])
    copy_of = copy_sources(3, np.array([0, 1]))
    assert leaked_rows(splits, copy_of).tolist() == [1, 3]
