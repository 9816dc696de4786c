"""The Present page."""
from __future__ import annotations

from tests.dashboard.conftest import run_page


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
