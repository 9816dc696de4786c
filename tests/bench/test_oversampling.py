"""The oversampling benchmark's interval helper."""
from bench.oversampling import wilson_interval


def test_wilson_interval_matches_the_textbook_value():
    """Check that 8 of 10 gives the 95% Wilson interval 0.490-0.943, and n=0 gives None."""
    assert wilson_interval(8, 10) == [0.4902, 0.9433]
    assert wilson_interval(0, 0) is None
