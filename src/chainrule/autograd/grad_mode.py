"""Grad mode (``no_grad``, ``enable_grad``, ``set_grad_enabled``) and anomaly mode.

Both are per-thread flags read on every op, so they live in one small state object.
"""

from __future__ import annotations

import contextlib
import threading

from ..backend import is_float_dtype, xp

__all__ = [
    "AnomalyError",
    "detect_anomaly",
    "enable_grad",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


class _State(threading.local):
    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False


state = _State()
"""This thread's flags: ``grad_enabled`` (record the graph) and ``anomaly`` (check every op)."""


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return state.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = True

    def __enter__(self):
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self.prev
        return False


class no_grad(set_grad_enabled):
    """Context manager in which nothing is recorded: for inference and updates.

    Examples
    --------
    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Context manager that turns recording back on inside ``no_grad``."""

    def __init__(self):
        super().__init__(True)


class AnomalyError(RuntimeError):
    """Raised inside :class:`detect_anomaly` when an op produces NaN or inf."""


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward or backward yields a non-finite value.

    Outside this context NaN and inf flow through as IEEE arithmetic says.
    Inside it, every op checks its output (forward) and the gradients it
    returns (backward), and raises :class:`AnomalyError` naming the op.
    """

    def __enter__(self):
        self.prev = state.anomaly
        state.anomaly = True
        return self

    def __exit__(self, *exc):
        state.anomaly = self.prev
        return False


def is_anomaly_enabled() -> bool:
    return state.anomaly


def nonfinite(array) -> bool:
    """True when a floating ``array`` holds a NaN or an inf."""
    return is_float_dtype(array.dtype) and not bool(xp.isfinite(array).all())
