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
        self.modules: list = []   # the modules being called, outermost first (anomaly mode only)


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
    """Raised inside :class:`detect_anomaly` at the first op that produces NaN or inf.

    Attributes
    ----------
    op : str
        The primitive (``"Linear"``, ``"Log"``...).
    phase : str
        ``"forward"`` or ``"backward"``.
    module : str or None
        The module that ran the op, as a path from the outermost module called
        (``"model.3 (Linear)"``); None when the op ran outside any module.
    origin : str
        What was non-finite first: the op's output or gradient, or an input that already was
        (a parameter by name, or the input data).
    batch, epoch : int or None
        Set by :func:`chainrule.train.fit` when it catches the error.
    """

    def __init__(self, message: str, *, op: str = "", phase: str = "", module=None,
                 origin: str = ""):
        super().__init__(message)
        self.op, self.phase, self.module, self.origin = op, phase, module, origin
        self.batch: int | None = None
        self.epoch: int | None = None

    def at_batch(self, epoch: int, batch: int) -> AnomalyError:
        """Add where in training it happened to the message (used by the training loop)."""
        self.epoch, self.batch = epoch, batch
        self.args = (f"{self.args[0]} (epoch {epoch + 1}, batch {batch + 1})",)
        return self


def module_path(stack) -> str | None:
    """``"model.3 (Linear)"``: the innermost module of ``stack``, named from the outermost."""
    if not stack:
        return None
    root, inner = stack[0], stack[-1]
    name = ""
    for path, module in root.named_modules():
        if module is inner:
            name = path
            break
    return ("model." + name if name else "model") + f" ({type(inner).__name__})"


def _leaf_name(tensor, stack) -> str:
    """A parameter's dotted name (found from the outermost module), or 'the input data'."""
    if stack:
        for name, param in stack[0].named_parameters():
            if param is tensor:
                return f"parameter model.{name}"
    return "the input data" if not getattr(tensor, "requires_grad", False) else "a leaf tensor"


def forward_anomaly(op: str, arrays, tensors, stack) -> AnomalyError:
    """The error for a forward whose output is non-finite: produced here, or already in an input."""
    where = module_path(stack)
    place = f" in {where}" if where else ""
    for array, tensor in zip(arrays, tensors, strict=False):
        if nonfinite(xp.asarray(array)):
            if tensor is None or tensor._ctx is None:
                origin = "a constant operand" if tensor is None else _leaf_name(tensor, stack)
            else:
                origin = f"the output of {type(tensor._ctx).__name__}, computed before anomaly mode"
            return AnomalyError(
                f"{op}.forward{place}: its input is already non-finite: {origin} holds NaN "
                "or inf", op=op, phase="forward", module=where, origin=origin)
    return AnomalyError(f"{op}.forward{place} produced a non-finite value (NaN or inf) from "
                        "finite inputs", op=op, phase="forward", module=where,
                        origin=f"the output of {op}")


def backward_anomaly(op: str, stack, arrived: bool = False) -> AnomalyError:
    """The error for a backward that returned a non-finite gradient (``arrived``: it was
    already non-finite when it reached the op: the seed of backward, or a hook, made it)."""
    where = module_path(stack)
    place = f" (recorded in {where})" if where else ""
    if arrived:
        return AnomalyError(f"{op}.backward{place} received a non-finite gradient: the seed of "
                            "backward() or a gradient hook holds NaN or inf", op=op,
                            phase="backward", module=where,
                            origin=f"the gradient arriving at {op}")
    return AnomalyError(f"{op}.backward{place} produced a non-finite gradient (NaN or inf) from "
                        "a finite one", op=op, phase="backward", module=where,
                        origin=f"the gradient of {op}")


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward or backward yields a non-finite value.

    Outside this context NaN and inf flow through as IEEE arithmetic says.
    Inside it, every op checks its output (forward) and the gradients it
    returns (backward), and raises :class:`AnomalyError` naming the op, the
    module that ran it (``model.3 (Linear)``) and whether the value was produced
    there or arrived in an input (a parameter by name, or the input data): the
    origin, not a later layer that only propagated it.

    Examples
    --------
    >>> import numpy as np
    >>> import chainrule as cr
    >>> from chainrule import nn
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> model[2].weight.data[0, 0] = np.nan
    >>> try:
    ...     with cr.detect_anomaly():
    ...         model(np.ones((4, 2), dtype=np.float32))
    ... except cr.autograd.AnomalyError as error:
    ...     print(error.module, "|", error.origin)
    model.2 (Linear) | parameter model.2.weight
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
