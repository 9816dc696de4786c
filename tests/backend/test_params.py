"""Tests of the shared parameter validation."""
import pytest

from backend.params import (Choice, Interval, InvalidParameterError, ListOf, check_bool, check_choice,
                            check_float, check_int)


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


def test_interval_checks_its_type_and_bounds():
    """Check that Interval(float, 0, 1) accepts '0.5' and refuses 1.5 naming the bounds."""
    assert Interval(float, low=0, high=1).check("0.5", param="p", func="f") == 0.5
    with pytest.raises(InvalidParameterError, match=r"a number in \[0, 1\]. Got 1.5"):
        Interval(float, low=0, high=1).check(1.5, param="p", func="f")


def test_choice_reads_its_registry_only_when_checking():
    """Check that a Choice calls its registry at check time, not when declared."""
    calls = []
    choice = Choice(lambda: calls.append(1) or ("a", "b"))
    assert calls == []
    assert choice.check("b", param="p", func="f") == "b" and calls == [1]


def test_list_of_takes_lists_and_comma_text_and_checks_each_item():
    """Check that ListOf parses ['3', '4,5'] and '3,4,5' alike, and names a bad item."""
    ids = ListOf(Interval(low=1), min_length=1)
    assert ids.check(["3", "4,5"], param="runs", func="f") == ids.check("3,4,5", param="runs",
                                                                          func="f") == [3, 4, 5]
    with pytest.raises(InvalidParameterError, match="'runs'.*'x'"):
        ids.check("3,x", param="runs", func="f")


def test_list_of_refuses_too_few_items():
    """Check that an empty list is refused when at least one item is required."""
    with pytest.raises(InvalidParameterError, match="a list of at least 1"):
        ListOf(Interval(), min_length=1).check("", param="runs", func="f")
