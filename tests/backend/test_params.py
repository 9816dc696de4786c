"""Tests of the shared parameter validation."""
import pytest

from backend.params import InvalidParameterError, check_bool, check_choice, check_float, check_int


def test_choice_error_names_parameter_value_and_choices():
    """Check that a bad choice says which parameter, which value and what is allowed."""
    with pytest.raises(InvalidParameterError) as info:
        check_choice("vgg", ("vgg19", "resnet152v2"), param="backbone", func="build_model")
    assert str(info.value) == ("The 'backbone' parameter of build_model must be one of "
                               "{'vgg19', 'resnet152v2'}. Got 'vgg' instead.")


def test_int_accepts_numeric_strings_within_bounds():
    """Check that '12' becomes 12 and that values outside the bounds are refused."""
    assert check_int("12", param="n", func="f", low=1, high=20) == 12
    with pytest.raises(InvalidParameterError, match=r"an integer in \[1, 20\]. Got 21"):
        check_int(21, param="n", func="f", low=1, high=20)


def test_int_refuses_fractions_and_booleans():
    """Check that 2.5 and True are not taken for integers."""
    for bad in (2.5, True, "x"):
        with pytest.raises(InvalidParameterError):
            check_int(bad, param="n", func="f")


def test_float_refuses_nan_and_text():
    """Check that NaN and words are refused as numbers."""
    for bad in (float("nan"), "abc"):
        with pytest.raises(InvalidParameterError, match="'x' parameter of f must be a number"):
            check_float(bad, param="x", func="f")


def test_bool_reads_usual_words():
    """Check that 'yes'/'0' read as booleans and 'maybe' is refused."""
    assert check_bool("yes", param="b", func="f") is True
    assert check_bool("0", param="b", func="f") is False
    with pytest.raises(InvalidParameterError):
        check_bool("maybe", param="b", func="f")
