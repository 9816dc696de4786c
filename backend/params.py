"""Parameter validation in one place, with errors that name the parameter,
the value and what is allowed (the style of scikit-learn's validation)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
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


# Declared constraints: what one parameter allows, stated once and read by every
# surface (validation, the command line's flags, the dashboard's widgets), in the
# manner of scikit-learn's `_parameter_constraints`.

class Constraint:
    """What values one parameter allows."""

    def check(self, value: Any, *, param: str, func: str) -> Any:
        """`value` normalised, or InvalidParameterError naming param, value and what is allowed."""
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of `type` (int or float) inside [low, high]; None leaves a side open."""

    type: type = int
    low: float | None = None
    high: float | None = None

    def check(self, value: Any, *, param: str, func: str) -> Any:
        checker = check_int if self.type is int else check_float
        return checker(value, param=param, func=func, low=self.low, high=self.high)


@dataclass(frozen=True)
class Choice(Constraint):
    """One name out of a registry, read only when first needed (registries are lazy)."""

    registry: Callable[[], Iterable[str]]

    def options(self) -> tuple[str, ...]:
        return tuple(self.registry())

    def check(self, value: Any, *, param: str, func: str) -> Any:
        return check_choice(value, self.options(), param=param, func=func)


@dataclass(frozen=True)
class Boolean(Constraint):
    """True or false, from a bool or the usual strings ('true', 'no', '1')."""

    def check(self, value: Any, *, param: str, func: str) -> bool:
        return check_bool(value, param=param, func=func)


@dataclass(frozen=True)
class Text(Constraint):
    """Any text, such as a class scheme ('5', '1,20,40,100') or a weights choice."""

    def check(self, value: Any, *, param: str, func: str) -> str:
        return str(value)


@dataclass(frozen=True)
class FilePath(Constraint):
    """A file or folder, made absolute where it is given so it means the same elsewhere."""

    def check(self, value: Any, *, param: str, func: str) -> str:
        return str(Path(str(value)).expanduser().resolve())


@dataclass(frozen=True)
class NameOrFile(Constraint):
    """One of a few names (such as 'imagenet'), or the path of a file that exists, made
    absolute where it is given."""

    names: tuple[str, ...]

    def check(self, value: Any, *, param: str, func: str) -> str:
        text = str(value)
        if text in self.names:
            return text
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            names = ", ".join(repr(n) for n in self.names)
            raise InvalidParameterError(param, func, f"one of {{{names}}} or the path of an "
                                        f"existing file (no file at {path})", value)
        return str(path)


@dataclass(frozen=True)
class ListOf(Constraint):
    """A list whose every item meets `item`, from a list or comma-separated text."""

    item: Constraint
    min_length: int = 0

    def check(self, value: Any, *, param: str, func: str) -> list[Any]:
        items = _as_list(value)
        if len(items) < self.min_length:
            raise InvalidParameterError(param, func, f"a list of at least {self.min_length}",
                                        value)
        return [self.item.check(v, param=param, func=func) for v in items]


def _as_list(value: Any) -> list[Any]:
    """A list as given, or text split on commas ('3,4' and ['3', '4,5'] both work)."""
    parts = list(value) if isinstance(value, (list, tuple)) else [value]
    out: list[Any] = []
    for part in parts:
        out += [v.strip() for v in part.split(",") if v.strip()] if isinstance(part, str) else [part]
    return out
