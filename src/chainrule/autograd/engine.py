"""The reverse-mode engine: order the recorded nodes, call their backward, accumulate.

It works on any object with Tensor's attributes (``data``, ``grad``, ``_ctx``,
``_requires_grad``, ``_vc``, ``_hooks``, ``_retains_grad``) and never imports
:mod:`chainrule.tensor`; the steps are listed in :mod:`chainrule.autograd`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..backend import errstate, xp
from .grad_mode import backward_anomaly, nonfinite, state

__all__ = ["VersionCounter", "run_backward", "seed_gradients", "unbroadcast"]


class VersionCounter:
    """How many times a tensor's array was modified in place, shared by the tensors that
    share that array (a tensor and its ``detach()``).

    A recorded node notes the version of each input when it is created; the engine compares
    before calling the node's backward, so an array saved for backward and modified in
    place afterwards raises instead of giving a wrong gradient. ``last_op`` names the
    in-place op that last changed it, for the error message.
    """

    __slots__ = ("last_op", "value")

    def __init__(self, value: int = 0):
        self.value = value
        self.last_op: str | None = None


def version_of(tensor) -> int:
    counter = tensor._vc
    return 0 if counter is None else counter.value


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


def _topological_order(roots) -> list:
    """Tensors reachable from ``roots`` through recorded nodes, inputs before outputs.

    An iterative depth-first post-order walk: no recursion, any depth.
    """
    order = []
    visited = set()
    stack = [(root, False) for root in reversed(roots)]
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


def _run_hooks(tensor, grad, owned):
    """Call the tensor's hooks in order; a hook's return value replaces the gradient."""
    for hook in tuple(tensor._hooks.values()):
        result = hook(tensor._from_op(grad, None))
        if result is not None:
            result = xp.asarray(getattr(result, "data", result), dtype=tensor.dtype)
            if result.shape != tensor.shape:
                raise ValueError(
                    f"register_hook: the hook returned a gradient of shape {result.shape}, "
                    f"expected the tensor's shape {tensor.shape}"
                )
            grad = result
        owned = False  # the hook saw (and may keep) this array: nothing may overwrite it
    return grad, owned


def _check_versions(tensor, ctx):
    """Raise when an input or the output of ``ctx`` was modified in place after recording."""
    expected = ctx.input_versions
    for k, parent in enumerate(ctx.inputs):
        if parent is not None and version_of(parent) != (0 if expected is None else expected[k]):
            _raise_modified(ctx, parent, "input", k, 0 if expected is None else expected[k])
    if version_of(tensor) != ctx.output_version:
        _raise_modified(ctx, tensor, "output", 0, ctx.output_version)


def _raise_modified(ctx, tensor, role, index, expected):
    op = tensor._vc.last_op if tensor._vc is not None else None
    raise RuntimeError(
        f"backward: {role} {index} of {type(ctx).__name__} (shape {tuple(tensor.shape)}) was "
        f"modified by an in-place operation{f' ({op})' if op else ''} after it was recorded: "
        f"it is at version {version_of(tensor)}, {type(ctx).__name__} saw version {expected}. "
        "Use the out-of-place form (x = x + y instead of x += y), or .clone() before modifying"
    )


def seed_gradients(outputs: Sequence, grad_outputs, owner: str) -> list:
    """Each output's starting gradient as ``(array, engine_owned)``: ones for a scalar, else
    the given array (checked for shape); raises when a non-scalar output has none."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif hasattr(grad_outputs, "shape"):  # one Tensor or array: the gradient of one output
        grad_outputs = [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"{owner}: expected one grad_output per output ({len(outputs)}), "
            f"received {len(grad_outputs)}"
        )
    seeds = []
    for k, (out, g) in enumerate(zip(outputs, grad_outputs, strict=True)):  # lengths checked
        if not out.requires_grad:
            raise RuntimeError(
                f"{owner}: output {k} does not require grad and has no recorded graph; "
                "create the inputs with requires_grad=True"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{owner}: grad can be implied only for a scalar output, received shape "
                    f"{out.shape}; pass the gradient (same shape) or reduce the output first"
                )
            seeds.append((xp.ones_like(out.data), True))
            continue
        g = xp.asarray(getattr(g, "data", g), dtype=out.dtype)  # may be the caller's array
        if g.shape != out.shape:
            raise ValueError(
                f"{owner}: the gradient must have the output's shape {out.shape}, "
                f"received {g.shape}"
            )
        seeds.append((g, False))
    return seeds


def run_backward(roots, grads, retain_graph: bool = False, inputs=None):
    """Backpropagate from ``roots`` (tensors) seeded with ``grads`` (arrays, one per root).

    Without ``inputs`` (``Tensor.backward``) gradients accumulate into the ``.grad`` of every
    leaf that requires grad, and of non-leaves that called ``retain_grad()``. With ``inputs``
    (``autograd.grad``) nothing is written to ``.grad``: the function returns a list with the
    gradient array of each input (None where it is unreachable).
    """
    # IEEE semantics: an infinite or NaN gradient propagates quietly (detect_anomaly catches it)
    with errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _backward_pass(roots, grads, retain_graph, inputs)


def _backward_pass(roots, seeds, retain_graph, inputs):
    captured = None if inputs is None else {id(t): None for t in inputs}
    pending_leaves = {}  # leaves whose gradient is summed before hooks run (or captured)
    grads = {}  # tensor id → (tensor, gradient so far, whether only the engine references it)
    for root, (grad, owned) in zip(roots, seeds, strict=True):
        _add_to(grads, root, grad, owned)
    leaf_roots = [r for r in roots if r._ctx is None]
    for leaf in leaf_roots:  # a leaf root: its own gradient is the seed
        entry = grads.pop(id(leaf), None)
        if entry is not None:
            _add_to(pending_leaves, *entry)
    anomaly = state.anomaly
    for tensor in reversed(_topological_order([r for r in roots if r._ctx is not None])):
        ctx = tensor._ctx
        entry = grads.pop(id(tensor), None)
        if entry is None:
            continue
        _, grad_output, owned = entry
        if ctx.released:
            raise RuntimeError(
                f"backward: the graph through {type(ctx).__name__} was already freed by an "
                "earlier backward; call backward(retain_graph=True) the first time to "
                "backpropagate through it twice"
            )
        _check_versions(tensor, ctx)
        if tensor._hooks:
            grad_output, owned = _run_hooks(tensor, grad_output, owned)
        if captured is not None:
            if id(tensor) in captured:
                captured[id(tensor)] = xp.array(grad_output, copy=True)
        elif tensor._retains_grad:
            _accumulate_leaf(tensor, grad_output)  # a copy: backward may reuse grad_output
        ctx.owns_grad_output = owned
        input_grads = ctx.backward(grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        # a backward may return a gradient slot for an optional input that was not given
        # (Linear's bias): the inputs decide how many are read
        grads_in = zip(ctx.inputs, ctx.needs_input_grad, input_grads, strict=False)
        for parent, needed, g in grads_in:
            if parent is None or not needed or g is None:
                continue
            if anomaly and nonfinite(g):
                raise backward_anomaly(type(ctx).__name__, getattr(ctx, "modules", ()),
                                       arrived=nonfinite(grad_output))
            target = parent.data
            fresh = ctx.fresh_grads
            if g.shape != target.shape:
                g, fresh = unbroadcast(g, target.shape), True  # a sum: a new array
            if g.dtype != target.dtype:
                g, fresh = g.astype(target.dtype), True
            if not isinstance(g, xp.ndarray):  # a NumPy scalar, from a ufunc or sum on 0-d arrays
                g, fresh = xp.asarray(g), True
            if parent._ctx is not None:
                _add_to(grads, parent, g, fresh)
            elif captured is None and parent._hooks is None:
                _accumulate_leaf(parent, g, owned=fresh)  # the hot path: straight into .grad
            else:
                _add_to(pending_leaves, parent, g, fresh)
        if not retain_graph:
            ctx.release()
    for key, (leaf, grad, owned) in pending_leaves.items():
        if leaf._hooks:
            grad, owned = _run_hooks(leaf, grad, owned)
        if captured is None:
            if leaf._requires_grad:
                _accumulate_leaf(leaf, grad, owned)
        elif key in captured:
            captured[key] = grad if owned else xp.array(grad, copy=True)
    if captured is not None:
        return [captured[id(t)] for t in inputs]
    return None


def _add_to(table, tensor, g, fresh):
    """table[tensor] += g, keeping whether the sum is an array only the engine references."""
    key = id(tensor)
    entry = table.get(key)
    if entry is None:
        table[key] = (tensor, g, fresh)
    else:
        table[key] = (tensor, xp.asarray(entry[1] + g), True)  # a new array (0-d sums give scalars)
