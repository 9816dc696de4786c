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
