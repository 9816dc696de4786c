"""Parameter validation in one place, with errors that name the parameter,
the value and what is allowed (the style of scikit-learn's validation)."""
from __future__ import annotations

from collections.abc import Iterable
from numbers import Real
from typing import Any


class InvalidParameterError(ValueError):
    """A parameter value outside what the function allows."""

    def __init__(self, param: str, func: str, allowed: str, value: Any):
        self.param, self.func, self.allowed, self.value = param, func, allowed, value
        super().__init__(
            f"The {param!r} parameter of {func} must be {allowed}. Got {value!r} instead."
        )


def check_choice(value: Any, allowed: Iterable[Any], *, param: str, func: str) -> Any:
    """Return `value` if it is one of `allowed`, else raise InvalidParameterError."""
    allowed = tuple(allowed)
    if value not in allowed:
        shown = "{" + ", ".join(repr(a) for a in allowed) + "}"
        raise InvalidParameterError(param, func, f"one of {shown}", value)
    return value


def check_int(value: Any, *, param: str, func: str, low: int | None = None,
              high: int | None = None) -> int:
    """Return `value` as an int inside [low, high], accepting numeric strings."""
    bounds = _bounds_text(low, high)
    try:
        as_int = int(value)
        if isinstance(value, float) and as_int != value:
            raise ValueError
        if isinstance(value, bool):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidParameterError(param, func, f"an integer{bounds}", value) from None
    if (low is not None and as_int < low) or (high is not None and as_int > high):
        raise InvalidParameterError(param, func, f"an integer{bounds}", value)
    return as_int


def check_float(value: Any, *, param: str, func: str, low: float | None = None,
                high: float | None = None) -> float:
    """Return `value` as a float inside [low, high], accepting numeric strings."""
    bounds = _bounds_text(low, high)
    try:
        if isinstance(value, bool):
            raise ValueError
        as_float = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(param, func, f"a number{bounds}", value) from None
    if not isinstance(as_float, Real) or as_float != as_float:
        raise InvalidParameterError(param, func, f"a number{bounds}", value)
    if (low is not None and as_float < low) or (high is not None and as_float > high):
        raise InvalidParameterError(param, func, f"a number{bounds}", value)
    return as_float


def check_bool(value: Any, *, param: str, func: str) -> bool:
    """Return `value` as a bool, accepting the usual strings ('true', '0', 'yes')."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise InvalidParameterError(param, func, "a boolean (true/false)", value)


def _bounds_text(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f" in [{low}, {high}]"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""
