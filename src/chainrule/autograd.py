"""Graph recording, the reverse-mode backward engine, ``no_grad`` and ``gradcheck``.

How it works
------------
Every differentiable primitive is a subclass of :class:`Function` with a
``forward`` (arrays in, one array out) and a ``backward`` (the gradient of the
loss with respect to the output in, the gradients with respect to each input
out: the vector–Jacobian product). ``Function.apply`` runs the forward and,
when grad mode is on and some input requires grad, records the call as the
output tensor's ``_ctx`` node.

``Tensor.backward`` hands the root to :func:`run_backward`, which

1. orders the recorded nodes topologically with an explicit stack (never
   recursion, so a chain of 100,000 ops is fine),
2. walks them from the output back to the leaves, calling each node's
   ``backward`` once with the sum of the gradients that reached its output,
3. sums each returned gradient back to its input's shape where the forward
   broadcast it (:func:`unbroadcast`, the only place this happens),
4. accumulates into the ``.grad`` of leaves with ``+=`` (so gradients add up
   across calls until ``zero_grad``), and
5. releases the arrays that nodes saved for backward, unless
   ``retain_graph=True``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence

from .backend import is_float_dtype, xp

__all__ = [
    "AnomalyError",
    "Function",
    "GradcheckError",
    "detect_anomaly",
    "enable_grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
]


class _State(threading.local):
    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False


_state = _State()


def is_grad_enabled() -> bool:
    """True when operations record the graph (the default)."""
    return _state.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self.prev = True

    def __enter__(self):
        self.prev = _state.grad_enabled
        _state.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.grad_enabled = self.prev
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
        self.prev = _state.anomaly
        _state.anomaly = True
        return self

    def __exit__(self, *exc):
        _state.anomaly = self.prev
        return False


def is_anomaly_enabled() -> bool:
    return _state.anomaly


def _nonfinite(array) -> bool:
    return is_float_dtype(array.dtype) and not bool(xp.isfinite(array).all())


class Function:
    """Base class of a differentiable primitive.

    Subclasses implement

    * ``forward(self, *arrays, **options) -> array``: compute the output and
      keep on ``self`` whatever ``backward`` needs;
    * ``backward(self, grad_output) -> tuple``: one gradient (an array shaped
      like the forward's *broadcast* operand, or ``None``) per input. The
      engine sums broadcast gradients back to each input's shape.

    ``self.needs_input_grad`` tells ``backward`` which gradients are wanted, so
    it can skip the rest. ``self.owns_grad_output`` is True when nothing but
    this call references ``grad_output``, so ``backward`` may overwrite it
    (ReLU masks it in place). Call a primitive with ``MyFunction.apply(...)``.
    """

    needs_input_grad: tuple = ()
    inputs: tuple = ()
    released: bool = False
    owns_grad_output: bool = False
    fresh_grads: bool = False
    """Set True on a subclass whose ``backward`` returns distinct arrays that nothing else
    references (newly allocated, or the grad_output it owns): the engine then stores one as a
    leaf's first ``.grad`` without a copy (a parameter's gradient is not copied every step) and
    lets the next ``backward`` overwrite it."""

    @classmethod
    def apply(cls, *inputs, **options):
        """Run ``forward`` on the inputs' arrays; record the call when grad mode is on and an input requires grad."""
        arrays = []
        tensors = []
        any_requires_grad = False
        for x in inputs:  # one pass: this is on the path of every op
            if isinstance(x, _Tensor):
                arrays.append(x.data)
                tensors.append(x)
                any_requires_grad = any_requires_grad or x._requires_grad
            else:
                arrays.append(x)
                tensors.append(None)
        fn = cls()
        record = any_requires_grad and _state.grad_enabled
        if record:
            fn.needs_input_grad = tuple(t is not None and t._requires_grad for t in tensors)
        out = fn.forward(*arrays, **options)
        if _state.anomaly and _nonfinite(out):
            raise AnomalyError(f"{cls.__name__}.forward produced a non-finite value (NaN or inf)")
        if not record:
            return _Tensor._from_op(out, None)
        fn.inputs = tuple(tensors)
        return _Tensor._from_op(out, fn)

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self):
        """Drop the arrays kept for backward (called by the engine); keep the graph's edges."""
        kept = {"needs_input_grad": self.needs_input_grad, "inputs": self.inputs, "released": True}
        self.__dict__.clear()
        self.__dict__.update(kept)


_Tensor = None  # chainrule.tensor.Tensor, bound by that module (it imports this one)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _topological_order(root) -> list:
    """Tensors reachable from ``root`` through recorded nodes, inputs before outputs.

    An iterative depth-first post-order walk: no recursion, any depth.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        ctx = tensor._ctx
        if ctx is not None:
            for parent in ctx.inputs:
                if parent is not None and parent._ctx is not None and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _accumulate_leaf(leaf, grad, owned: bool = False):
    """leaf.grad += grad; the first gradient is copied unless the engine ``owned`` it alone."""
    if leaf.grad is None:
        leaf.grad = grad if owned else xp.array(grad, dtype=leaf.dtype, copy=True)
    else:
        leaf.grad += grad


def run_backward(root, grad=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``root``; see the module docstring for the steps."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no recorded graph; "
            "create the inputs with requires_grad=True"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implied only for a scalar output, received shape "
                f"{root.shape}; pass grad= with the same shape or reduce the output first"
            )
        grad, owned = xp.ones_like(root.data), True
    else:
        grad, owned = xp.asarray(getattr(grad, "data", grad), dtype=root.dtype), False  # may be the caller's array
        if grad.shape != root.shape:
            raise ValueError(
                f"backward: grad must have the output's shape {root.shape}, received {grad.shape}"
            )
    if root._ctx is None:  # a leaf
        _accumulate_leaf(root, grad)
        return

    # IEEE semantics: an infinite or NaN gradient propagates quietly (detect_anomaly catches it)
    with xp.errstate(divide="ignore", invalid="ignore", over="ignore"):
        _backward_pass(root, grad, retain_graph, owned)


def _backward_pass(root, grad, retain_graph, owned):
    order = _topological_order(root)
    grads = {id(root): (grad, owned)}  # tensor id → (gradient so far, whether only the engine references it)
    anomaly = _state.anomaly
    for tensor in reversed(order):
        ctx = tensor._ctx
        entry = grads.pop(id(tensor), None)
        if entry is None:
            continue
        grad_output, ctx.owns_grad_output = entry
        if ctx.released:
            raise RuntimeError(
                f"backward: the graph through {type(ctx).__name__} was already freed by an "
                "earlier backward; call backward(retain_graph=True) the first time to "
                "backpropagate through it twice"
            )
        input_grads = ctx.backward(grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for parent, needed, g in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
            if parent is None or not needed or g is None:
                continue
            if anomaly and _nonfinite(g):
                raise AnomalyError(
                    f"{type(ctx).__name__}.backward produced a non-finite gradient (NaN or inf)"
                )
            target = parent.data
            fresh = ctx.fresh_grads
            if g.shape != target.shape:
                g, fresh = unbroadcast(g, target.shape), True  # a sum: a new array
            if g.dtype != target.dtype:
                g, fresh = g.astype(target.dtype), True
            if not isinstance(g, xp.ndarray):  # a NumPy scalar, from a ufunc or sum on 0-d arrays
                g, fresh = xp.asarray(g), True
            if parent._ctx is None:
                _accumulate_leaf(parent, g, owned=fresh)
            else:
                key = id(parent)
                if key in grads:
                    grads[key] = (xp.asarray(grads[key][0] + g), True)  # a new array (0-d sums give scalars)
                else:
                    grads[key] = (g, fresh)
        if not retain_graph:
            ctx.release()


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
    >>> x = cr.tensor(np.random.default_rng(0).normal(size=(3, 4)), dtype=np.float64, requires_grad=True)
    >>> cr.autograd.gradcheck(lambda t: (t * t).sum(), [x])
    True
    """
    from .tensor import Tensor

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
        for o, w in zip(outs_, weights):
            total += float((o.data.astype(xp.float64) * w).sum())
        return total

    for i in checked:
        inputs[i].grad = None
    differentiable = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
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
