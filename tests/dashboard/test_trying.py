"""The Try it page's words and bars (dashboard/trying.py)."""
from __future__ import annotations

from dashboard import trying

LABELS = ["1-19", "20-39", "40-59", "60-79", "80-99"]


def test_a_sure_answer_is_one_group_and_its_percentage():
    """Check that a face answered with 82% reads as that group, 82% sure, and says what the
    GradCAM picture shows."""
    text = trying.face_sentence(LABELS, [0.02, 0.82, 0.1, 0.03, 0.03], "gradcam")
    assert text.startswith("The model puts this face in the 20-39 age group, 82% sure.")
    assert "looked most" in text


def test_an_unsure_answer_names_the_runner_up():
    """Check that a 48% / 40% answer says the model is not sure and names both groups."""
    text = trying.face_sentence(LABELS, [0.02, 0.48, 0.4, 0.05, 0.05], "occlusion")
    assert "not sure: 48% for 20-39 and 40% for 40-59" in text
    assert "covering changed" in text


def test_the_bars_highlight_the_answer():
    """Check that the bar chart has one bar per group and colours only the answer yellow."""
    fig = trying.probability_bars(LABELS, [0.1, 0.6, 0.2, 0.05, 0.05], 1)
    colours = fig.data[0].marker.color
    assert list(fig.data[0].y) == LABELS
    assert [c == "#fde725" for c in colours] == [False, True, False, False, False]


def test_every_read_error_reason_has_plain_words():
    """Check that each reason a photo can be unreadable has its own message."""
    from backend.data.images import READ_REASONS

    assert set(READ_REASONS) <= set(trying.UNREADABLE)


def test_the_calibration_note_says_whether_percentages_are_calibrated():
    """Check that the note names the temperature when the run has one, and says the
    percentages are not yet calibrated when it has none."""
    assert "temperature 1.37" in trying.calibration_note(1.37)
    assert "not yet calibrated" in trying.calibration_note(None)
