"""Declared parameter constraints, checked once when ``fit`` starts.

Each estimator has a table ``_parameter_constraints``: parameter name -> list of constraints, the
value being valid when one of them accepts it (the shape of scikit-learn's own tables, whose
checker is private API). A constraint also normalizes the value it accepts (NumPy scalars to
Python numbers, sequences to tuples), so that the code after the check never sees a NumPy
integer where torch expects an ``int``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

__all__ = [
    "Boolean",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "SequenceOf",
    "validate_params",
]


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has a value outside its constraints.

    Both a ``ValueError`` and a ``TypeError``, as scikit-learn's error of the same name, so that
    callers may catch either.
    """


class _Rejected(Exception):
    pass


@dataclass(frozen=True)
class Interval:
    """Finite numbers (``integer=True``: integers) between ``low`` and ``high``.

    ``closed`` says which bounds belong to the interval: ``"both"``, ``"left"``, ``"right"`` or
    ``"neither"``; ``None`` is an open end. NaN and infinity are always refused.
    """

    low: float | None = None
    high: float | None = None
    closed: str = "both"
    integer: bool = False

    def accept(self, value):
        kind = numbers.Integral if self.integer else numbers.Real
        if isinstance(value, bool) or not isinstance(value, kind):
            raise _Rejected
        value = int(value) if self.integer else float(value)
        if not math.isfinite(value):
            raise _Rejected
        if self.low is not None and (
            value < self.low or (value == self.low and self.closed in ("right", "neither"))
        ):
            raise _Rejected
        if self.high is not None and (
            value > self.high or (value == self.high and self.closed in ("left", "neither"))
        ):
            raise _Rejected
        return value

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        what = "an int" if self.integer else "a finite float"
        return f"{what} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class Options:
    """One of the given values (strings, ``None``, ...)."""

    values: tuple

    def accept(self, value):
        try:
            if value in self.values:
                return value
        except (TypeError, ValueError):  # incomparable values, such as arrays
            pass
        raise _Rejected

    def __str__(self) -> str:
        if len(self.values) == 1:
            return repr(self.values[0])
        return f"one of {{{', '.join(map(repr, self.values))}}}"


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False`` (NumPy booleans too); numbers are not booleans."""

    def accept(self, value):
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise _Rejected

    def __str__(self) -> str:
        return "a bool"


@dataclass(frozen=True)
class HasMethods:
    """An object with all the given methods (such as a scikit-learn estimator)."""

    methods: tuple

    def accept(self, value):
        if isinstance(value, str) or not all(callable(getattr(value, name, None))
                                              for name in self.methods):
            raise _Rejected
        return value

    def __str__(self) -> str:
        return f"an object with methods {', '.join(self.methods)}"


@dataclass(frozen=True)
class SequenceOf:
    """A sequence whose entries all satisfy ``entries``, as a tuple of the normalized entries.

    ``length`` fixes the number of entries; strings and mappings are not sequences here.
    """

    entries: Interval | Options
    min_length: int = 0
    length: int | None = None

    def accept(self, value):
        if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
            raise _Rejected
        try:
            values = tuple(self.entries.accept(entry) for entry in value)
        except TypeError as error:  # e.g. a 0-d array
            raise _Rejected from error
        too_short = len(values) < self.min_length
        if too_short or (self.length is not None and len(values) != self.length):
            raise _Rejected
        return values

    def __str__(self) -> str:
        size = (f"{self.length} " if self.length is not None
                else f"at least {self.min_length} " if self.min_length else "")
        return f"a sequence of {size}entries, each {self.entries}"


def validate_params(owner: str, params: dict, constraints: dict) -> SimpleNamespace:
    """Check ``params`` (name -> value) against ``constraints``; return them normalized.

    ``owner`` names what the parameters belong to in the error message (a class, a method).
    Parameters without constraints are returned as they are.

    Raises
    ------
    InvalidParameterError
        Naming the first parameter whose value no constraint accepts, and what is expected.
    """
    checked = {}
    for name, value in params.items():
        if name not in constraints:
            checked[name] = value
            continue
        for constraint in constraints[name]:
            try:
                checked[name] = constraint.accept(value)
                break
            except _Rejected:
                continue
        else:
            expected = " or ".join(str(c) for c in constraints[name])
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be {expected}; got {value!r}."
            )
    return SimpleNamespace(**checked)
