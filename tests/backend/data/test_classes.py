"""Tests for the age-class schemes."""
import numpy as np
import pytest

from backend.data.classes import SCHEMES, ClassScheme, scheme_from
from backend.params import InvalidParameterError


def test_scheme_5_assigns_boundary_ages():
    """Check that scheme 5 puts 19 in class 0, 20 in 1, 99 in 4, and 0 and 100 in none (-1)."""
    scheme = scheme_from("5")
    assert scheme.assign([19, 20, 99, 100, 0, 1]).tolist() == [0, 1, 4, -1, -1, 0]


def test_scheme_5_labels_are_the_papers_categories():
    """Check that scheme 5 has the paper's five inclusive age ranges."""
    scheme = scheme_from(5)
    assert scheme.labels == ("1-19", "20-39", "40-59", "60-79", "80-99")
    assert scheme.n_classes == 5


def test_scheme_8_labels_cover_the_same_ages_as_scheme_5():
    """Check that scheme 8 has its eight bins over the same ages 1-99 as scheme 5."""
    scheme = scheme_from(8)
    assert scheme.labels == ("1-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-99")
    assert (scheme.edges[0], scheme.edges[-1]) == (SCHEMES["5"][0], SCHEMES["5"][-1])


def test_scheme_8_assigns_boundary_ages():
    """Check that scheme 8 splits at each decade and keeps 70-99 together."""
    assert scheme_from("8").assign([9, 10, 69, 70, 99, 100]).tolist() == [0, 1, 6, 7, 7, -1]


def test_names_and_ints_give_the_same_scheme():
    """Check that "5" and 5 (and "8" and 8) give equal schemes."""
    assert scheme_from("5") == scheme_from(5) == ClassScheme(SCHEMES["5"])
    assert scheme_from("8") == scheme_from(8) == ClassScheme(SCHEMES["8"])


@pytest.mark.parametrize("spec", [[0, 18, 65, 120], (0, 18, 65, 120), "0,18,65,120",
                                  " 0, 18 ,65,120"])
def test_explicit_edges_are_parsed(spec):
    """Check that a list, tuple or comma string of edges gives those edges."""
    assert scheme_from(spec).edges == (0, 18, 65, 120)


def test_explicit_edges_give_inclusive_labels():
    """Check that explicit edges label each class by its first and last age."""
    assert scheme_from("0,18,65,120").labels == ("0-17", "18-64", "65-119")


def test_dict_round_trip_gives_the_same_scheme():
    """Check that from_dict(to_dict()) rebuilds an equal scheme."""
    scheme = scheme_from("8")
    assert scheme.to_dict()["edges"] == list(SCHEMES["8"])
    assert ClassScheme.from_dict(scheme.to_dict()) == scheme


@pytest.mark.parametrize("spec", [
    "7", 7, "five", [20, 10, 30], [1, 20], [1, 20, 20, 40], "1,a,40",
    [-1, 20, 40], [1, 20, 201], True, 3.5, None, [1.5, 20, 40],
])
def test_bad_spec_raises_naming_classes_and_value(spec):
    """Check that a bad spec raises InvalidParameterError naming 'classes' and the value."""
    with pytest.raises(InvalidParameterError) as info:
        scheme_from(spec)
    assert info.value.param == "classes"
    assert "'classes'" in str(info.value) and repr(spec) in str(info.value)


def test_direct_construction_validates_edges():
    """Check that ClassScheme itself rejects edges that are not increasing."""
    with pytest.raises(InvalidParameterError, match="classes"):
        ClassScheme((40, 20, 60))


def test_assign_returns_int_array_for_float_ages():
    """Check that float ages are binned by the half-open rule as int classes."""
    result = scheme_from(5).assign(np.array([19.5, 20.0, 99.9]))
    assert result.dtype == np.int64 and result.tolist() == [0, 1, 4]
