"""Tests for the speed results' rows: ratios, targets and steady rates (nothing is timed)."""
import pytest

from bench.ratios import row, skipped, steady_rate


def test_steady_rate_leaves_out_the_first_step():
    """Check that batch-end times 10, 11, 13 at batch 8 give 16 images over 3 s."""
    assert steady_rate([10.0, 11.0, 13.0], 8) == pytest.approx(16 / 3)


def test_steady_rate_needs_two_stamps():
    """Check that one batch-end time is refused: there is no interval to time."""
    with pytest.raises(ValueError):
        steady_rate([1.0], 8)


def test_row_meets_the_target_at_equality():
    """Check that a ratio equal to its target counts as met."""
    result = row(30.0, 10.0, target=3.0)
    assert (result["ratio"], result["met"]) == (3.0, True)


def test_row_without_a_target_has_no_verdict():
    """Check that a row with no target reports met as None."""
    assert row(5.0, 10.0)["met"] is None


def test_skipped_row_keeps_the_schema_and_says_why():
    """Check that a skipped measure has every key, empty values and the reason in its notes."""
    result = skipped("no data", target=1.8)
    assert set(result) == {"ours", "baseline", "ratio", "unit", "target", "met", "notes"}
    assert result["ours"] is None and result["notes"] == "skipped: no data"
