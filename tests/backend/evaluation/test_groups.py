"""Per-group accuracy, its intervals, and the largest gap between groups."""
from __future__ import annotations

import numpy as np
import pytest

from backend.evaluation.groups import MIN_GAP_N, group_results, weighted_accuracy


def _sample(seed=0, n=600):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    race = rng.choice(["White", "Black", "Asian", ""], n)
    # Asian faces right less often, White more often.
    p_right = np.select([race == "Asian", race == "White"], [0.5, 0.85], 0.7)
    pred = np.where(rng.random(n) < p_right, y, (y + 1) % 5)
    gender = rng.choice(["M", "F"], n)
    return y, pred, {"gender": gender, "race": race}


def test_group_accuracies_weighted_by_n_equal_the_overall_accuracy():
    """Check that each attribute's groups, weighted by their n, give back the overall
    accuracy, and their n add up to every image."""
    y, pred, groups = _sample()
    per_group, _ = group_results(y, pred, groups)
    for attribute in ("gender", "race"):
        assert sum(g["n"] for g in per_group[attribute].values()) == len(y)
        assert weighted_accuracy(per_group[attribute]) == pytest.approx(np.mean(y == pred))


def test_each_group_has_its_n_one_off_and_interval():
    """Check that a group carries accuracy, one-off, n and an interval around it; an
    empty label is the 'unknown' group."""
    y, pred, groups = _sample()
    per_group, _ = group_results(y, pred, groups)
    asian = per_group["race"]["Asian"]
    assert asian["n"] == int(np.sum(groups["race"] == "Asian"))
    assert asian["ci95"][0] < asian["accuracy"] < asian["ci95"][1]
    assert asian["one_off_accuracy"] >= asian["accuracy"]
    assert "unknown" in per_group["race"]


def test_largest_gap_is_best_minus_worst_known_group_with_an_interval():
    """Check that the race gap runs from Asian (worst) to White (best), leaves 'unknown'
    out, and its interval excludes 0 on a real difference."""
    y, pred, groups = _sample()
    per_group, gap = group_results(y, pred, groups)
    race = gap["race"]
    assert (race["worst"], race["best"]) == ("Asian", "White")
    assert race["gap"] == pytest.approx(per_group["race"]["White"]["accuracy"]
                                        - per_group["race"]["Asian"]["accuracy"])
    assert race["ci95"][0] > 0 and race["n_worst"] == per_group["race"]["Asian"]["n"]


def test_small_groups_are_reported_but_not_ranked_for_the_gap():
    """Check that a group under MIN_GAP_N images is listed but cannot be the worst."""
    y, pred, groups = _sample()
    tiny = np.flatnonzero(y != pred)[: MIN_GAP_N - 1]
    groups["race"] = groups["race"].astype(object)
    groups["race"][tiny] = "Tiny"
    per_group, gap = group_results(y, pred, groups)
    assert per_group["race"]["Tiny"]["accuracy"] == 0.0
    assert gap["race"]["worst"] != "Tiny"


def test_unlabelled_or_id_like_attributes_are_not_groups():
    """Check that an attribute nobody has, or one with a value per image, is left out."""
    y, pred, _ = _sample(n=100)
    per_group, gap = group_results(y, pred, {"nothing": [""] * 100,
                                             "subject": [str(i) for i in range(100)]})
    assert per_group == {} and gap == {}


def test_a_group_s_balanced_accuracy_takes_its_age_mix_out():
    """Check that a group right on every child and wrong on every adult, with 3 children
    to 1 adult, has accuracy 0.75 but balanced accuracy 0.5."""
    y = np.array([0, 0, 0, 1])
    pred = np.array([0, 0, 0, 0])
    per_group, _ = group_results(y, pred, {"gender": ["F"] * 4})
    assert per_group["gender"]["F"]["accuracy"] == 0.75
    assert per_group["gender"]["F"]["balanced_accuracy"] == 0.5
