"""``gradcheck``: compare a function's backward with central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..backend import xp
from ..tensor import Tensor
from .grad_mode import no_grad, set_grad_enabled

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytic and numeric gradients disagree."""


def gradcheck(
    fn: Callable,
    inputs: Sequence,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s backward against central finite differences in float64.

    For a non-scalar output, the scalar ``L = Σ v ⊙ fn(*inputs)`` with a fixed
    random ``v`` is checked, which tests the vector–Jacobian product that
    backward computes. Every input that requires grad is perturbed one element
    at a time: ``(L(x + eps) - L(x - eps)) / (2 eps)``.

    Parameters
    ----------
    fn : callable
        Takes the tensors of ``inputs`` and returns a Tensor (or a tuple of them).
    inputs : sequence of Tensor
        The tensors that require grad must be float64.
    eps, atol, rtol : float
        Step and tolerances: passes when ``|analytic - numeric| <= atol + rtol |numeric|``.

    Returns
    -------
    True, or raises :class:`GradcheckError` naming the input and its worst element.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> data = np.random.default_rng(0).normal(size=(3, 4))
    >>> x = cr.tensor(data, dtype=np.float64, requires_grad=True)
    >>> cr.autograd.gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != xp.float64:
            raise TypeError(
                f"gradcheck: input {i} must be float64 for finite differences, "
                f"received {inputs[i].dtype}"
            )

    def outputs():
        out = fn(*inputs)
        return out if isinstance(out, (tuple, list)) else (out,)

    for i in checked:  # perturbation below writes through a flat view
        inputs[i].data = xp.ascontiguousarray(inputs[i].data)
    with set_grad_enabled(True):
        outs = [o for o in outputs() if isinstance(o, Tensor)]
    rng = xp.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def scalar(outs_):
        total = 0.0
        for o, w in zip(outs_, weights, strict=True):
            total += float((o.data.astype(xp.float64) * w).sum())
        return total

    for i in checked:
        inputs[i].grad = None
    differentiable = [(o, w) for o, w in zip(outs, weights, strict=True) if o.requires_grad]
    for k, (o, w) in enumerate(differentiable):
        o.backward(xp.asarray(w, dtype=o.dtype), retain_graph=k < len(differentiable) - 1)

    with no_grad():
        for i in checked:
            x = inputs[i]
            analytic = x.grad if x.grad is not None else xp.zeros_like(x.data)
            numeric = xp.zeros_like(x.data)
            flat = x.data.reshape(-1)
            for j in range(flat.size):
                original = flat[j]
                flat[j] = original + eps
                plus = scalar([o for o in outputs() if isinstance(o, Tensor)])
                flat[j] = original - eps
                minus = scalar([o for o in outputs() if isinstance(o, Tensor)])
                flat[j] = original
                numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
            error = xp.abs(analytic - numeric)
            bound = atol + rtol * xp.abs(numeric)
            if not bool((error <= bound).all()):
                worst = xp.unravel_index(int(xp.argmax(error - bound)), x.shape)
                raise GradcheckError(
                    f"gradcheck: input {i} (shape {x.shape}) has a wrong gradient; worst element "
                    f"{tuple(int(k) for k in worst)}: analytic {float(analytic[worst]):.8g}, "
                    f"numeric {float(numeric[worst]):.8g}"
                )
    return True
