"""The Present page."""
from __future__ import annotations

import random

from dashboard.plain_words import PRIOR_EXPLAINED
from storage import runs
from tests.dashboard.conftest import run_page
from tests.dashboard.seed import open_home, seed_prior_metrics


def test_present_page_renders(seeded):
    """Check that the page renders without an exception and picks the ensemble."""
    at = run_page("present.py")
    assert not at.exception
    assert at.selectbox(key="present-run").value == seeded["runs"][2]


def test_headline_in_plain_words(seeded):
    """Check that the headline says how many in 10 faces land in the right 20-year group."""
    at = run_page("present.py")
    assert at.markdown[0].value.startswith("### 6 in 10 faces are put in the right 20-year")


def test_weak_spot_is_the_most_confused_pair(seeded):
    """Check that the weak spots name 20-39 vs 40-59, the largest off-diagonal pair."""
    notes = [m.value for m in run_page("present.py").markdown if m.value.startswith("- ")]
    assert notes[0].startswith("- The model mixes up 20-39 and 40-59")


def test_gradcam_examples_have_one_sentence_each(seeded):
    """Check that each GradCAM example image comes with its sentence."""
    at = run_page("present.py")
    sentences = [m.value for m in at.markdown if "looked hardest" in m.value]
    assert len(at.get("image")) == len(sentences) == 3


def test_export_button_is_offered(seeded):
    """Check that the HTML export is offered as a download."""
    at = run_page("present.py")
    assert at.download_button[0].proto.label.startswith("Export the report")


def test_headline_carries_the_number_of_test_faces(seeded):
    """Check that the headline is followed by how many test faces it was measured on."""
    n = runs.get_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2], "test")["n"]
    assert run_page("present.py").caption[0].value == \
        f"Measured on {n:.0f} test faces the model never saw in training."


def test_present_shows_as_trained_and_population_figures(seeded):
    """Check that after a source-prior evaluation both figures are said in plain words,
    with the sentence on what the correction does."""
    seed_prior_metrics(open_home(seeded["gallery"].parents[1]), seeded["runs"][2],
                       random.Random(1))
    texts = [m.value for m in run_page("present.py").markdown]
    assert any(t.startswith("- As trained (balanced classes):") for t in texts)
    assert any(t.startswith("- For the population's age mix: 81 in 100") for t in texts)
    assert any(PRIOR_EXPLAINED in t for t in texts)


def test_present_without_a_prior_evaluation_shows_no_comparison(seeded):
    """Check that the comparison is left out until the population mix was evaluated."""
    texts = [m.value for m in run_page("present.py").markdown]
    assert not any("population's age mix" in t for t in texts)


def test_present_says_who_it_works_for_and_how_sure_it_is(seeded):
    """Check the two sections: per-group sentences with n and bars with intervals, and
    the sentence on confidence with the reliability chart."""
    from tests.dashboard.conftest import plotly_specs

    at = run_page("present.py")
    headers = [h.value for h in at.subheader]
    assert "Who it works for" in headers and "How sure it is" in headers
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("- It is") and "n=" in t for t in texts)
    assert any("Its stated confidence is off by" in t for t in texts)
    titles = [s["layout"]["title"]["text"] for s in plotly_specs(at)]
    assert "Accuracy by gender (95% intervals)" in titles
    assert any(t.startswith("How sure it is, and how often it is right") for t in titles)


def test_an_ensemble_is_called_better_than_a_member_only_when_the_interval_says_so(seeded):
    """Check one sentence per member, each 'better' or 'no clear difference' (or worse)
    with its interval, McNemar's p and n."""
    at = run_page("present.py")
    assert "Is the ensemble better than its members?" in [h.value for h in at.subheader]
    sentences = [m.value for m in at.markdown
                 if m.value.startswith(("- The ensemble", "- No clear difference"))]
    assert len(sentences) == 2
    for sentence in sentences:
        low = float(sentence.split("95% interval ")[1].split(" to ")[0])
        assert ("is better than" in sentence) == (low > 0)
        assert "McNemar p" in sentence and "n = 116 faces" in sentence
