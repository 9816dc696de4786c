"""The Present page's content."""
from __future__ import annotations

from datetime import datetime, timezone
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


WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)


def entry(**changes) -> dict:
    """A run as storage.catalog lists it: by default our cpu ensemble, not the paper's."""
    base = {"id": 3, "name": "meta", "kind": "ensemble", "backbone": "ensemble",
            "backbones": ("efficientnet_lite0", "dlib_face"), "preset": "cpu",
            "weights": "imagenet", "dataset": "utkface", "dataset_id": 1, "dataset_size": 9000,
            "n_test": 912, "status": "succeeded",
            "what": "meta ensemble of efficientnet_lite0 + dlib_face"}
    return {**base, **changes}


def build(run=None, **kw) -> str:
    m = {"n": 912, "accuracy": 0.759, "one_off_accuracy": 0.97,
         "per_class_accuracy": [0.7, 0.8, 0.75, 0.7, 0.9]}
    args = {"lead": "76 in 100 faces", "notes": ["mixes up 20-39 and 40-59"],
            "examples": [("a face", png((0, 0, 0)))],
            "figures": [charts.per_class_bars(["a"], {"r": [0.5]})],
            "labels": ["1-19", "20-39", "40-59", "60-79", "80-99"], "when": WHEN, **kw}
    return presentation.build_report(run or entry(), m, args.pop("lead"), args.pop("notes"),
                                     args.pop("examples"), args.pop("figures"), **args)


def test_report_holds_headline_notes_and_examples():
    """Check that the report carries the lead sentence, weak spots and example faces."""
    html = build()
    assert all(s in html for s in ("76 in 100 faces", "mixes up 20-39 and 40-59", "a face"))


def test_report_of_a_non_paper_ensemble_claims_no_reproduction():
    """Check that our cpu ensemble's report says nowhere that it reproduces the paper,
    and says instead: different models / different data / n."""
    html = build()
    assert "reproduces" not in html
    assert "different models (ours: efficientnet_lite0 + dlib_face" in html
    assert "different data" in html and "n = 912 test faces here, 3,757 in the paper" in html


def test_report_of_the_papers_own_models_says_it_reproduces_them():
    """Check that an ensemble of exactly vgg19 and resnet152v2, paper preset, ImageNet
    weights, is said to reproduce the paper's ensemble."""
    paper_run = entry(backbones=("vgg19", "resnet152v2"), preset="paper", departures=())
    assert "This run reproduces the paper&#x27;s Ensemble model" in build(paper_run)


def test_a_paper_run_with_a_changed_setting_does_not_reproduce_the_paper():
    """Check that the paper's models trained with a setting changed from the `paper`
    preset (or with unknown changes) are not said to reproduce it, and the caption
    names what changed."""
    changed = entry(backbones=("vgg19", "resnet152v2"), preset="paper", departures=("saliency",))
    html = build(changed)
    assert "reproduces" not in html and "changed from the preset: saliency" in html
    unknown = build(entry(backbones=("vgg19", "resnet152v2"), preset="paper", departures=None))
    assert "reproduces" not in unknown and "changes from the preset not recorded" in unknown


def test_report_holds_our_table_the_date_the_dataset_and_every_n():
    """Check that the report's title names the model in words, and the report holds our
    own results table, the date, the dataset and the number of test faces."""
    html = build()
    assert "<title>Age groups from faces: the meta ensemble of efficientnet_lite0 + " \
           "dlib_face (run #3)</title>" in html
    assert "Our results" in html and "run #3" in html and "Test faces (n)" in html
    assert "912" in html and "75.90%" in html
    assert "2026-12-01" in html and "utkface" in html and "9,000 prepared faces" in html
    assert "n = 912" in html


def test_report_carries_the_population_mix_sentences_when_given():
    """Check that the report has the as-trained / population sentences and the one on
    what the correction does, when the page passes them."""
    html = build(mix=["As trained: 70 in 100", "For the population: 80 in 100"])
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
    html = presentation.build_report(
        entry(), m, "70 in 100 faces", [], [], [charts.per_class_bars(labels, {"r": [0.5] * 5})],
        labels=labels, when=WHEN, trust=trust_sections.report_sections(who, sure))
    assert "<h2>Who it works for</h2>" in html and "<h2>How sure it is</h2>" in html
    for sentence in who[0]:
        assert html_escape(sentence) in html and "n=" in sentence
    assert html_escape(sure[0]) in html and "test faces" in sure[0]
    assert "Accuracy by race (95% intervals)" in html and "perfectly calibrated" in html
    assert not re.search(r'<script[^>]+src=|<link[^>]+href="?https?:', html)
