"""The number, flag and choice validators shared by every public entry point.

Each raises ``TypeError`` for a value of the wrong kind and ``ValueError`` for
one out of range, with the message ``"<owner>: <name> must be ..., received
<value>"``; each returns the value in its plain Python type.

Examples
--------
>>> check_int("fit", "epochs", 3, low=1)
3
>>> check_real("Adam", "lr", 0.5, low=0.0, low_open=True)
0.5
>>> check_real("Adam", "lr", -1.0, low=0.0, low_open=True)
Traceback (most recent call last):
...
ValueError: Adam: lr must be in (0.0, inf], received -1.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

__all__ = ["check_bool", "check_choice", "check_int", "check_real"]


def _interval(low, high, low_open, high_open) -> str:
    left = "(" if low_open or low is None else "["
    right = ")" if high_open else "]"
    return f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"


def check_int(owner: str, name: str, value, *, low: int | None = None, high: int | None = None,
              allow_inf: bool = False) -> int | float:
    """An int (NumPy integers accepted, bools refused) with ``low <= value <= high``.

    With ``allow_inf``, ``math.inf`` is accepted too (e.g. "never stop").
    """
    if allow_inf and isinstance(value, Real) and not isinstance(value, bool) and value == math.inf:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{owner}: {name} must be an int, received {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise ValueError(f"{owner}: {name} must be >= {low}, received {value!r}")
        raise ValueError(f"{owner}: {name} must be an int in [{low}, {high}], received {value!r}")
    return int(value)


def check_real(owner: str, name: str, value, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """A real number (bools refused, NaN refused) in the interval given by the bounds.

    ``low_open``/``high_open`` exclude the bound itself. Infinity is refused
    unless ``allow_inf`` (and the interval contains it).
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a number, received {type(value).__name__} "
                        f"{value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    infinite = math.isinf(value) and not allow_inf
    if math.isnan(value) or too_low or too_high or infinite:
        interval = _interval(low, high, low_open, high_open)
        raise ValueError(f"{owner}: {name} must be in {interval}, received {value!r}")
    return value


def check_bool(owner: str, name: str, value) -> bool:
    """True or False (NumPy bools accepted; 0/1 refused, so a swapped argument is caught)."""
    if not (isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")):
        raise TypeError(f"{owner}: {name} must be True or False, received {value!r}")
    return bool(value)


def check_choice(owner: str, name: str, value, options: Sequence[str]) -> str:
    """One of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{owner}: {name} must be one of {', '.join(map(repr, options))}, received {value!r}"
        )
    return value
