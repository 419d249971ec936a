"""``grad``: gradients of outputs with respect to chosen inputs, without touching ``.grad``."""

from __future__ import annotations

from ..tensor import Tensor
from .engine import run_backward, seed_gradients

__all__ = ["grad"]


def _as_tuple(value, name: str) -> tuple:
    items = (value,) if isinstance(value, Tensor) else tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"grad: {name}[{i}] must be a Tensor, received {type(item).__name__}")
    return items


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as PyTorch's ``autograd.grad``.

    Computes Σₖ vₖᵀ ∂outputₖ/∂input for each input (vₖ = ``grad_outputs[k]``, 1 for a
    scalar output) and returns them as new tensors; no ``.grad`` attribute changes.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
    inputs : Tensor or sequence of Tensor
        Leaves or intermediate tensors of the graph.
    grad_outputs : Tensor, ndarray or sequence, optional
        The vector of each vector–Jacobian product; required for non-scalar outputs.
    retain_graph : bool, optional
        Keep the saved arrays for another backward (default: ``create_graph``).
    create_graph : bool
        Only False: the backward functions compute on arrays, so the gradients returned
        are not themselves differentiable (no higher-order derivatives).
    allow_unused : bool
        Return None for an input the outputs do not depend on, instead of raising.

    Examples
    --------
    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (dx,) = cr.autograd.grad((x * x).sum(), x)
    >>> dx
    tensor([2., 4.])
    >>> x.grad is None
    True
    """
    if create_graph:
        raise NotImplementedError(
            "grad: create_graph=True is not supported; chainrule's backward functions compute "
            "on arrays, so gradients cannot be differentiated again"
        )
    outputs = _as_tuple(outputs, "outputs")
    inputs = _as_tuple(inputs, "inputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad")
    seeds = seed_gradients(outputs, grad_outputs, "grad")
    arrays = run_backward(outputs, seeds, retain_graph=bool(retain_graph), inputs=inputs)
    results = []
    for i, g in enumerate(arrays):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        results.append(None if g is None else Tensor._from_op(g, None))
    return tuple(results)
