"""Gradient attributions: saliency, input × gradient, integrated gradients and their completeness.

For a model f and an output (the target class) y = f_c(x):

- saliency (Simonyan et al. 2014): ``|∂y/∂x|`` (or the signed gradient);
- input × gradient (Shrikumar et al. 2016): ``x ⊙ ∂y/∂x``;
- integrated gradients (Sundararajan et al. 2017), from a baseline x′:
  ``IG_i(x) = (x_i − x′_i) · ∫₀¹ ∂f_c(x′ + α(x − x′))/∂x_i dα``,
  the integral taken by a quadrature rule with ``steps`` points α_k and weights w_k:
  ``IG ≈ (x − x′) ⊙ Σ_k w_k ∇f_c(x′ + α_k(x − x′))``.

IG satisfies *completeness*: ``Σ_i IG_i(x) = f_c(x) − f_c(x′)`` (the gradient theorem along
the straight path). :func:`completeness_delta` measures how far a set of attributions is from
it; for IG the delta is the quadrature error and shrinks as ``steps`` grows.
"""

from __future__ import annotations

from ..backend import host, scatter_add, xp
from ._model import (
    attribution_mode,
    check_baseline,
    check_batch_size,
    check_input,
    predict_targets,
    resolve_targets,
    target_gradients,
    target_outputs,
)

__all__ = [
    "PATH_METHODS",
    "completeness_delta",
    "input_x_gradient",
    "integrated_gradients",
    "path_rule",
    "saliency",
]

PATH_METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle",
                "riemann_trapezoid")
"""The quadrature rules of :func:`integrated_gradients` (Captum's names)."""


def path_rule(method: str, steps: int):
    """Points α_k in [0, 1] and weights w_k (summing to 1) of a quadrature rule on [0, 1].

    ``gausslegendre``: the Gauss–Legendre nodes of degree ``steps`` mapped from [−1, 1]
    (α = (t + 1)/2, w = w_t/2), exact for polynomials of degree 2·steps − 1. The Riemann
    rules use ``steps`` equal cells of width 1/steps, sampled at the left edges, the right
    edges or the middles; ``riemann_trapezoid`` uses ``steps`` points from 0 to 1 with
    half weights at both ends.

    Examples
    --------
    >>> alphas, weights = path_rule("riemann_middle", 4)
    >>> alphas.tolist(), weights.tolist()
    ([0.125, 0.375, 0.625, 0.875], [0.25, 0.25, 0.25, 0.25])
    """
    if method not in PATH_METHODS:
        raise ValueError(f"integrated_gradients: expected method to be one of "
                         f"{list(PATH_METHODS)}, received {method!r}")
    minimum = 2 if method == "riemann_trapezoid" else 1
    if isinstance(steps, bool) or not isinstance(steps, (int, host.integer)) or steps < minimum:
        raise ValueError(f"integrated_gradients: expected steps to be an int >= {minimum} for "
                         f"{method!r}, received {steps!r}")
    if method == "gausslegendre":
        nodes, weights = host.polynomial.legendre.leggauss(steps)
        return (nodes + 1) / 2, weights / 2
    cells = host.arange(steps, dtype=host.float64)
    weights = host.full(steps, 1.0 / steps)
    if method == "riemann_left":
        return cells / steps, weights
    if method == "riemann_right":
        return (cells + 1) / steps, weights
    if method == "riemann_middle":
        return (cells + 0.5) / steps, weights
    weights = host.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] /= 2
    return cells / (steps - 1), weights


def saliency(model, x, target=None, abs: bool = True, batch_size: int | None = None):
    """The gradient of the target output with respect to the input: ``|∂y_c/∂x|``.

    Parameters
    ----------
    model : Module or callable
        Maps a batch (N, ...) to outputs (N, C) (or (N,)). Evaluated in ``eval()`` mode.
    x : array_like of float, shape (N, ...)
        The inputs to explain, batch first.
    target : None, int or sequence of int
        The output explained per sample: None takes the predicted class (the only output of
        a single-output model), an int the same class for every sample.
    abs : bool
        The absolute gradient (the saliency map of Simonyan et al.); False keeps its sign.
    batch_size : int, optional
        Rows per pass through the network (default: the whole batch).

    Returns
    -------
    ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import saliency
    >>> model = nn.Linear(3, 2, generator=np.random.default_rng(0))
    >>> gradient = saliency(model, np.ones((1, 3)), target=1, abs=False)
    >>> bool(np.allclose(gradient, model.weight.data[1]))
    True
    """
    gradients = _gradients("saliency", model, x, target, batch_size)[1]
    return xp.abs(gradients) if abs else gradients


def input_x_gradient(model, x, target=None, batch_size: int | None = None):
    """The input times the gradient: ``x ⊙ ∂y_c/∂x`` (arguments as :func:`saliency`).

    For a linear model this is each feature's term ``x_i w_i`` of the output.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import input_x_gradient
    >>> model = nn.Linear(2, 1, bias=False)
    >>> model.weight.data[:] = [[2.0, -1.0]]
    >>> input_x_gradient(model, np.array([[3.0, 4.0]], dtype=np.float32)).tolist()
    [[6.0, -4.0]]
    """
    x, gradients = _gradients("input_x_gradient", model, x, target, batch_size)
    return x * gradients


def _gradients(owner, model, x, target, batch_size):
    x = check_input(owner, x, model)
    batch_size = check_batch_size(owner, batch_size, len(x))
    with attribution_mode(model):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
        gradients, _ = target_gradients(owner, model, x, targets, batch_size)
    return x, gradients


def integrated_gradients(model, x, target=None, baseline=0.0, steps: int = 50,
                         method: str = "gausslegendre", batch_size: int | None = None,
                         return_delta: bool = False):
    """Integrated gradients from ``baseline`` to ``x`` (Sundararajan et al. 2017).

    ``IG(x) = (x − x′) ⊙ Σ_k w_k ∇f_c(x′ + α_k (x − x′))`` with the points α_k and weights
    w_k of :func:`path_rule`. The ``steps × N`` path points go through the network in
    chunks of ``batch_size`` rows.

    Parameters
    ----------
    model, x, target
        As :func:`saliency`. The target defaults to the class predicted at ``x``.
    baseline : float or array_like
        x′: a number, one sample's shape (shared by the batch) or ``x``'s shape.
    steps : int
        Quadrature points on the path (at least 2 for ``riemann_trapezoid``).
    method : str
        The quadrature rule, one of :data:`PATH_METHODS`: 'gausslegendre' (default),
        'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'.
    batch_size : int, optional
        Path points per pass (default: N, one path point for the whole batch per pass).
    return_delta : bool
        Also return :func:`completeness_delta`, Σ IG − (f_c(x) − f_c(x′)), per sample.

    Returns
    -------
    ndarray shaped as ``x``, or ``(attributions, delta)`` with ``delta`` of shape (N,).

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import integrated_gradients
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    >>> attributions, delta = integrated_gradients(model, x, target=0, return_delta=True)
    >>> attributions.shape, bool(np.abs(delta).max() < 1e-4)
    ((5, 3), True)
    """
    owner = "integrated_gradients"
    x = check_input(owner, x, model)
    baseline = check_baseline(owner, baseline, x)
    alphas, weights = path_rule(method, steps)
    batch_size = check_batch_size(owner, batch_size, len(x))
    count = len(x)
    difference = x - baseline
    with attribution_mode(model):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
        total = xp.zeros_like(x)  # Σ_k w_k ∇f_c(x′ + α_k (x − x′)), per sample
        shape = (-1,) + (1,) * (x.ndim - 1)
        for start in range(0, steps * count, batch_size):
            rows = xp.arange(start, min(start + batch_size, steps * count))
            step, sample = rows // count, rows % count  # row r: path point r // N of sample r % N
            alpha = xp.asarray(alphas[step], dtype=x.dtype).reshape(shape)
            points = baseline[sample] + alpha * difference[sample]
            gradients, _ = target_gradients(owner, model, points, targets[sample], len(rows))
            weighted = xp.asarray(weights[step], dtype=x.dtype).reshape(shape) * gradients
            if len(rows) == count and (sample == xp.arange(count)).all():
                total += weighted  # one path point for the whole batch
            else:
                scatter_add(total, sample, weighted)
        attributions = difference * total
        if not return_delta:
            return attributions
        delta = _delta(owner, model, x, attributions, targets, baseline, batch_size)
    return attributions, delta


def completeness_delta(model, x, attributions, target=None, baseline=0.0,
                       batch_size: int | None = None):
    """How far attributions are from completeness: ``Σ_i a_i − (f_c(x) − f_c(x′))`` per sample.

    Zero for exact integrated gradients (and for any method that satisfies completeness);
    for IG computed by quadrature it is the quadrature error.

    Parameters
    ----------
    model, x, target
        As :func:`saliency`; ``target`` None means the class predicted at ``x``.
    attributions : array_like, shape of ``x``
    baseline : float or array_like
        x′, as in :func:`integrated_gradients`.
    batch_size : int, optional

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import completeness_delta, input_x_gradient
    >>> model = nn.Linear(3, 1, bias=False)
    >>> x = np.ones((2, 3), dtype=np.float32)
    >>> bool(np.allclose(completeness_delta(model, x, input_x_gradient(model, x)), 0, atol=1e-6))
    True
    """
    owner = "completeness_delta"
    x = check_input(owner, x, model)
    baseline = check_baseline(owner, baseline, x)
    attributions = xp.asarray(attributions)
    if attributions.shape != x.shape:
        raise ValueError(f"{owner}: expected attributions shaped as the input {x.shape}, "
                         f"received {attributions.shape}")
    batch_size = check_batch_size(owner, batch_size, len(x))
    with attribution_mode(model):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
        return _delta(owner, model, x, attributions, targets, baseline, batch_size)


def _delta(owner, model, x, attributions, targets, baseline, batch_size):
    gain = (target_outputs(owner, model, x, targets, batch_size)
            - target_outputs(owner, model, xp.ascontiguousarray(baseline), targets, batch_size))
    return attributions.reshape(len(x), -1).sum(axis=1) - gain
