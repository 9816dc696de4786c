"""Form helpers."""
from __future__ import annotations

from dashboard import forms


def test_default_comes_first():
    """Check that the paper's default is moved to the front of the choices."""
    assert forms.ordered(["average", "meta"], "meta") == ["meta", "average"]


def test_unknown_default_keeps_registry_order():
    """Check that without a listed default the registry's order is kept."""
    assert forms.ordered(["a", "b"], None) == ["a", "b"]


def test_blank_values_mean_default():
    """Check that None, '' and [] are left out so validate_params applies the default."""
    assert forms.given({"a": None, "b": "", "c": [], "d": 0, "e": False}) == {"d": 0, "e": False}


def _float_param_page():
    from backend.params import Interval
    from dashboard.forms import param_widget
    from worker.jobspecs import Param

    param_widget(Param("min_face_score", Interval(float, low=0, high=1), 0.5), None, {},
                 key="score")


def test_a_float_parameter_gets_a_bounded_number_input():
    """Check that a float Interval parameter renders as a number input with its bounds."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_float_param_page).run()
    box = at.number_input(key="score")
    assert not at.exception
    assert (box.value, box.proto.min, box.proto.max) == (0.5, 0.0, 1.0)
