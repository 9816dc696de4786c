"""The benchmark's trust columns and table."""
from __future__ import annotations

import pandas as pd

from bench.trust import ece_cell, gap_cell, natural_groups, trust_table

GROUPS = {"race": {"Asian": {"n": 120, "accuracy": 0.6}, "White": {"n": 400, "accuracy": 0.8}},
          "gender": {"F": {"n": 390, "accuracy": 0.74}, "M": {"n": 400, "accuracy": 0.75}}}
M = {"per_group": GROUPS, "ece": 0.081, "ece_calibrated": 0.032, "temperature": 1.42,
     "max_gap": {"race": {"gap": 0.2, "ci95": [0.1, 0.29], "worst": "Asian", "best": "White"},
                 "gender": {"gap": 0.01, "ci95": [-0.05, 0.07], "worst": "F", "best": "M"}}}


def test_cells_give_the_widest_gap_with_its_interval_and_the_ece_before_and_after():
    """Check the main table's two cells: the widest attribute's gap and the ECE pair."""
    assert gap_cell(M) == "race 20.0 (10.0 to 29.0)"
    assert ece_cell(M) == "0.081 → 0.032"
    assert gap_cell({}) == ece_cell({}) == "—"


def test_trust_table_has_a_row_per_model_and_test_set_with_group_sizes():
    """Check one row per model and test set, each gap with both groups' n."""
    lines = trust_table({"dlib_face": {"test": M, "natural": M}, "vgg": {"test": {}}})
    rows = [line for line in lines if line.startswith("| dlib_face")]
    assert len(rows) == 2 and "natural set" in rows[1]
    assert "20.0 (10.0 to 29.0): Asian n=120 vs White n=400" in rows[0]
    assert rows[0].endswith("| 0.081 → 0.032 | 1.42 |")


def test_natural_groups_reads_gender_and_race_columns():
    """Check that the natural set's gender and group_race columns become its groups."""
    frame = pd.DataFrame({"gender": ["M", "F"], "group_race": ["Asian", ""]})
    groups = natural_groups(frame)
    assert list(groups["race"]) == ["Asian", ""] and list(groups["gender"]) == ["M", "F"]
