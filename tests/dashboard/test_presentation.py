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


def test_report_has_who_it_works_for_and_how_sure_it_is_offline():
    """Check that the report carries the two trust sections with their sentences (each
    number with its n) and charts, and loads nothing from the network."""
    import random
    import re

    from dashboard import trust_charts, trust_sections, trust_words
    from tests.dashboard.seed import confusion, metrics_from

    m = metrics_from(confusion(random.Random(0)))
    labels = ["1-19", "20-39", "40-59", "60-79", "80-99"]
    who = (trust_words.who_sentences(m, labels),
           [trust_charts.group_bars(a, g) for a, g in m["per_group"].items()])
    sure = (trust_words.how_sure_sentence(m), [trust_charts.reliability_diagram(m["calibration"])])
    run = {"id": 3, "name": "ens", "kind": "ensemble", "backbone": "ensemble"}
    html = presentation.build_report(
        run, m, "7 in 10 faces", [], [], [charts.per_class_bars(labels, {"r": [0.5] * 5})],
        trust=trust_sections.report_sections(who, sure))
    assert "<h2>Who it works for</h2>" in html and "<h2>How sure it is</h2>" in html
    for sentence in who[0]:
        assert html_escape(sentence) in html and "n=" in sentence
    assert html_escape(sure[0]) in html and "test faces" in sure[0]
    assert "Accuracy by race (95% intervals)" in html and "perfectly calibrated" in html
    assert not re.search(r'<script[^>]+src=|<link[^>]+href="?https?:', html)
