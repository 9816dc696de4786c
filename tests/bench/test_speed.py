"""Tests for the pure helpers of the speed benchmark (nothing is timed)."""
import pytest

from bench.speed import frozen_training_rate


def test_frozen_training_rate_amortises_the_extraction_over_the_epochs():
    """Check that 100 images x 10 epochs over 4 s of extraction + 0.1 s/epoch is 200 img/s."""
    assert frozen_training_rate(100, 10, 4.0, 0.1) == pytest.approx(200.0)
