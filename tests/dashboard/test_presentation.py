"""The Present page's content."""
from __future__ import annotations

from html import escape as html_escape

import pandas as pd

from dashboard import charts, plain_words, presentation
from tests.dashboard.seed import png


def test_examples_are_correct_misclassified_and_grey():
    """Check that the examples are a correct colour face, a wrong one and a grey one."""
    items = pd.DataFrame({"colour": ["grey", "colour", "colour", "colour"],
                          "outcome": ["correct", "misclassified", "correct", "correct"],
                          "id": ["g", "w", "c", "c2"]})
    assert [e["id"] for e in presentation.pick_examples(items)] == ["c", "w", "g"]


def test_report_holds_headline_notes_and_examples():
    """Check that the report carries the lead sentence, weak spots and example faces."""
    run = {"id": 3, "name": "ens", "kind": "ensemble", "backbone": "ensemble"}
    html = presentation.build_report(
        run, {"n": 10}, "7 in 10 faces", ["mixes up 20-39 and 40-59"],
        [("a face", png((0, 0, 0)))], [charts.per_class_bars(["a"], {"r": [0.5]})])
    assert all(s in html for s in ("7 in 10 faces", "mixes up 20-39 and 40-59", "a face",
                                   "paper&#x27;s Ensemble model", "70.27%"))


def test_report_carries_the_population_mix_sentences_when_given():
    """Check that the report has the as-trained / population sentences and the one on
    what the correction does, when the page passes them."""
    run = {"id": 3, "name": "ens", "kind": "ensemble", "backbone": "ensemble"}
    html = presentation.build_report(
        run, {"n": 10}, "7 in 10 faces", [], [], [charts.per_class_bars(["a"], {"r": [0.5]})],
        mix=["As trained: 70 in 100", "For the population: 80 in 100"])
    assert "As trained: 70 in 100" in html and "For the population: 80 in 100" in html
    assert html_escape(plain_words.PRIOR_EXPLAINED) in html
