"""The chain rule on the user's own network: the tutorial's equations with live shapes and norms.

For a network of fully connected layers z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = g(z⁽ˡ⁾), the
backpropagation tutorial this project implements computes, from the output layer back,

    δ⁽ᴸ⁾ = ∂J/∂z⁽ᴸ⁾
    δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾)
    ∂J/∂W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ,   ∂J/∂b⁽ˡ⁾ = δ⁽ˡ⁾

for one sample (a column). On a batch, with one sample per row as chainrule stores it, the same
equations read δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾), ∂J/∂W⁽ˡ⁾ = δ⁽ˡ⁾ᵀ a⁽ˡ⁻¹⁾ and
∂J/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾ₙ. :func:`explain` runs one forward and backward pass of the user's network on
a batch, recomputes every δ and gradient from these equations with NumPy, compares them with
what autograd computed, and checks a few entries of each ∂J/∂W against central finite
differences of J. The pass runs on a float64 copy of the model in evaluation mode, so the
model itself is left as it was.

Examples
--------
>>> import numpy as np
>>> from chainrule import nn
>>> from chainrule.diagnostics import explain
>>> rng = np.random.default_rng(0)
>>> model = nn.Sequential(nn.Linear(4, 8, generator=0), nn.Tanh(), nn.Linear(8, 3, generator=1))
>>> report = explain(model, rng.normal(size=(16, 4)), np.arange(16) % 3)
>>> report.ok
True
>>> print(report.lines[1])
layer 2 (model.2, Linear 8→3): δ⁽²⁾ = ∂J/∂z⁽²⁾  (16×3)
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from ..backend import xp
from ..tensor import Tensor

__all__ = ["ChainRuleReport", "explain"]

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(n) -> str:
    """The tutorial's layer superscript: 2 → ⁽²⁾."""
    return "⁽" + str(n).translate(_SUPERSCRIPT) + "⁾"


def _shape(array) -> str:
    return "×".join(str(n) for n in array.shape)


def _derivative(kind, module, z):
    """g'(z) of an elementwise activation module, or None when it is not one we know."""
    if kind in ("Identity", None):
        return xp.ones_like(z)
    if kind == "ReLU":
        return (z > 0).astype(z.dtype)
    if kind == "LeakyReLU":
        return xp.where(z > 0, 1.0, getattr(module, "negative_slope", 0.01))
    if kind == "Sigmoid":
        s = 1.0 / (1.0 + xp.exp(-z))
        return s * (1.0 - s)  # σ'(z) = σ(z)(1 − σ(z)), taken at z (not at a)
    if kind == "Tanh":
        return 1.0 - xp.tanh(z) ** 2
    return None


@dataclass
class ChainRuleReport:
    """The lines :func:`explain` prints, and whether every check agreed.

    Attributes
    ----------
    lines : list of str
    ok : bool
        True when every recomputed δ and gradient matched autograd and every finite-difference
        check matched within ``tolerance``.
    max_error : float
        The largest relative disagreement seen.
    """

    lines: list = field(default_factory=list)
    ok: bool = True
    max_error: float = 0.0

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _relative(a, b) -> float:
    scale = max(float(xp.abs(b).max()) if b.size else 0.0, 1e-12)
    return float(xp.abs(a - b).max()) / scale if a.size else 0.0


def _layers(model, prefix="model"):
    """[(name, module)] of the leaf modules in forward order; a Sequential tree flattened."""
    from ..nn import Sequential

    if not isinstance(model, Sequential):
        children = list(model.named_children())
        if len(children) == 1 and isinstance(children[0][1], Sequential):
            # a preset: its layers are one Sequential
            return _layers(children[0][1], f"{prefix}.{children[0][0]}")
        raise TypeError(
            f"explain: expected an nn.Sequential of Linear and activation layers, received "
            f"{type(model).__name__}; wrap your layers in nn.Sequential to see the chain rule"
        )
    leaves = []
    stack = [(prefix, model)]
    while stack:
        name, module = stack.pop(0)
        children = list(module.named_children())
        if isinstance(module, Sequential):
            stack = [(f"{name}.{n}", m) for n, m in children] + stack
        else:
            leaves.append((name, module))
    return leaves


def explain(
    model,
    x,
    y=None,
    *,
    loss="cross_entropy",
    entries: int = 3,
    eps: float = 1e-6,
    tolerance: float = 1e-5,
    generator=0,
) -> ChainRuleReport:
    """Show and check the chain rule, layer by layer from the output back, on one batch.

    Parameters
    ----------
    model : nn.Sequential
        Linear layers, each optionally followed by an elementwise activation (ReLU,
        LeakyReLU, Sigmoid, Tanh); Flatten and Dropout are allowed (Dropout is inactive in
        evaluation mode).
    x : array (N, in_features)
    y : array, optional
        Targets; default: class 0 for every sample.
    loss : str or callable
        As for :func:`chainrule.train.fit`.
    entries : int
        Entries of each ∂J/∂W checked by finite differences.
    eps, tolerance : float
        Finite-difference step and relative tolerance of every check.
    generator : int or numpy.random.Generator
        Picks the entries to check.
    """
    from ..autograd import enable_grad
    from ..train.losses import get_loss

    leaves = _layers(model)
    x = xp.asarray(x.data if isinstance(x, Tensor) else x, dtype=xp.float64)
    if x.ndim < 2:
        raise ValueError(f"explain: expected a batch x of shape (N, ...), received {x.shape}")
    y = xp.zeros(len(x), dtype=xp.int64) if y is None else xp.asarray(getattr(y, "data", y))
    loss_fn = get_loss(loss)
    rng = (
        generator
        if isinstance(generator, xp.random.Generator)
        else xp.random.default_rng(generator)
    )
    twin = copy.deepcopy(model).double().eval()
    twin_leaves = _layers(twin)

    # group the leaves into layers l = 1..L: a Linear and the activation right after it
    layers = []
    for i, (name, module) in enumerate(twin_leaves):
        kind = type(module).__name__
        if kind == "Linear":
            layers.append({"name": name, "linear": module, "act": None, "act_kind": None})
        elif kind in ("Flatten", "Dropout"):
            continue
        elif (
            layers
            and layers[-1]["act"] is None
            and _derivative(kind, module, xp.zeros(1)) is not None
        ):
            layers[-1]["act"], layers[-1]["act_kind"] = module, kind
        else:
            raise TypeError(
                f"explain: {leaves[i][0]} is a {kind}; explain shows the chain rule "
                "for Linear layers with elementwise activations only"
            )
    if not layers:
        raise TypeError("explain: the model has no Linear layer")

    captured = {}
    handles = []
    for index, layer in enumerate(layers):

        def hook(module, inputs, output, index=index):
            captured[index] = {"a_prev": inputs[0].data, "z": output.data}
            output.register_hook(
                lambda g, index=index: captured[index].__setitem__("delta", g.data)
            )

        handles.append(layer["linear"].register_forward_hook(hook))
    try:
        with enable_grad():
            twin.zero_grad()
            J = loss_fn(twin(Tensor(x, dtype=xp.float64)), y)
            J.backward()
    finally:
        for handle in handles:
            handle.remove()

    report = ChainRuleReport()
    L = len(layers)
    report.lines.append(
        f"J = {loss if isinstance(loss, str) else 'loss'} = {float(J.item()):.6g} "
        f"on a batch of {len(x)} (float64 copy of the model, evaluation mode)"
    )

    def check(label, recomputed, autograd):
        error = _relative(recomputed, autograd)
        report.max_error = max(report.max_error, error)
        good = error <= tolerance
        report.ok = report.ok and good
        return f"    {label}: max relative difference {error:.1e} {'✓' if good else '✗ MISMATCH'}"

    delta_next = None
    for k in range(L, 0, -1):
        layer = layers[k - 1]
        linear = layer["linear"]
        got = captured[k - 1]
        delta = got["delta"]
        title = (
            f"layer {k} ({layer['name']}, Linear {linear.in_features}→{linear.out_features}"
            + (f", {layer['act_kind']}" if layer["act_kind"] else "")
            + ")"
        )
        if k == L:
            report.lines.append(f"{title}: δ{_sup(k)} = ∂J/∂z{_sup(k)}  ({_shape(delta)})")
            report.lines.append(
                f"    ‖δ{_sup(k)}‖ = {float(xp.linalg.norm(delta)):.4g} (from autograd)"
            )
        else:
            upper = layers[k]["linear"]
            g_prime = _derivative(layer["act_kind"], layer["act"], got["z"])
            recomputed = (delta_next @ upper.weight.data) * g_prime
            report.lines.append(
                f"{title}: δ{_sup(k)} = (W{_sup(k + 1)}ᵀ δ{_sup(k + 1)}) ⊙ g'(z{_sup(k)})  "
                f"({_shape(delta_next)} · {_shape(upper.weight.data)} ⊙ {_shape(g_prime)} → "
                f"{_shape(recomputed)}), ‖δ{_sup(k)}‖ = {float(xp.linalg.norm(recomputed)):.4g}"
            )
            report.lines.append(check(f"δ{_sup(k)} against autograd", recomputed, delta))
        grad_W = delta.T @ got["a_prev"]
        report.lines.append(
            f"    ∂J/∂W{_sup(k)} = δ{_sup(k)}ᵀ a{_sup(k - 1)}  ({_shape(delta.T)} · "
            f"{_shape(got['a_prev'])} → {_shape(grad_W)}), ‖∂J/∂W{_sup(k)}‖ = "
            f"{float(xp.linalg.norm(grad_W)):.4g}"
        )
        report.lines.append(check(f"∂J/∂W{_sup(k)} against autograd", grad_W, linear.weight.grad))
        if linear.bias is not None:
            grad_b = delta.sum(axis=0)
            report.lines.append(
                f"    ∂J/∂b{_sup(k)} = Σₙ δ{_sup(k)}ₙ  ({_shape(grad_b)}), "
                f"‖∂J/∂b{_sup(k)}‖ = {float(xp.linalg.norm(grad_b)):.4g}"
            )
            report.lines.append(check(f"∂J/∂b{_sup(k)} against autograd", grad_b, linear.bias.grad))
        report.lines.append(
            _finite_differences(
                twin,
                linear,
                x,
                y,
                loss_fn,
                grad_W,
                k,
                entries,
                eps,
                tolerance,
                rng,
                report,
            )
        )
        delta_next = delta
    report.lines.append(
        "all checks agree"
        if report.ok
        else "SOME CHECKS DISAGREE: a backward function does not match its forward"
    )
    return report


def _finite_differences(
    twin, linear, x, y, loss_fn, grad_W, k, entries, eps, tolerance, rng, report
) -> str:
    from ..autograd import no_grad

    W = linear.weight.data
    picks = [tuple(int(rng.integers(n)) for n in W.shape) for _ in range(entries)]
    worst = 0.0
    with no_grad():
        for index in picks:
            original = W[index]
            W[index] = original + eps
            up = float(loss_fn(twin(Tensor(x, dtype=xp.float64)), y).item())
            W[index] = original - eps
            down = float(loss_fn(twin(Tensor(x, dtype=xp.float64)), y).item())
            W[index] = original
            numeric = (up - down) / (2 * eps)
            scale = max(abs(numeric), abs(float(grad_W[index])), 1e-8)
            worst = max(worst, abs(numeric - float(grad_W[index])) / scale)
    good = worst <= max(tolerance, 1e-6) and math.isfinite(worst)
    report.ok = report.ok and good
    shown = ", ".join(f"[{i},{j}]" for i, j in picks)
    return (
        f"    finite differences on W{_sup(k)}{shown}: max relative difference {worst:.1e} "
        f"{'✓' if good else '✗ MISMATCH'}"
    )
