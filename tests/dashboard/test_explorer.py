"""The error explorer's filters: a cell's faces and a group's, surest mistakes first."""
from __future__ import annotations

import pandas as pd

from dashboard import explorer

PREDS = pd.DataFrame({"row": range(6), "true": [0, 0, 1, 1, 1, 1], "pred": [1, 1, 1, 0, 0, 1],
                      "gender": ["F", "M", "F", "F", "M", ""], "age": [10, 12, 25, 30, 22, 33],
                      "prob_0": [0.3, 0.1, 0.2, 0.9, 0.6, 0.4],
                      "prob_1": [0.7, 0.9, 0.8, 0.1, 0.4, 0.6]})


def test_a_cell_holds_its_faces_surest_first():
    """Check that the cell (true 0, predicted 1) gives rows 1 then 0 (90% before 70%)."""
    assert explorer.cell_faces(PREDS, 0, 1)["row"].tolist() == [1, 0]


def test_a_group_puts_confident_mistakes_first():
    """Check that women come mistakes first, surest first, and 'unknown' is a group."""
    women = explorer.group_faces(PREDS, "gender", "F")
    assert women["row"].tolist() == [3, 0, 2]
    assert explorer.group_faces(PREDS, "gender", "unknown")["row"].tolist() == [5]


def test_a_group_and_an_age_group_combine():
    """Check 'women 20-39', mistakes only: the one woman of class 1 taken for class 0."""
    faces = explorer.group_faces(PREDS, "gender", "F", true=1, mistakes_only=True)
    assert faces["row"].tolist() == [3]


def test_caption_gives_true_and_predicted_group_age_confidence_and_probabilities():
    """Check a face's caption: true and predicted group, age, how sure, every class."""
    row = explorer.with_confidence(PREDS).iloc[3]
    assert explorer.face_caption(row, ["kids", "adults"]) == (
        "true adults → predicted kids · age 30 · 90% sure · kids 90%, adults 10%")


def test_group_columns_are_gender_and_the_group_labels():
    """Check that gender and every group_ column are offered as attributes."""
    preds = PREDS.assign(group_race="Asian")
    assert explorer.group_columns(preds) == {"gender": "gender", "race": "group_race"}
