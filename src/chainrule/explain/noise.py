"""SmoothGrad (Smilkov et al. 2017) and its squared and VarGrad variants.

A gradient map is noisy: the gradient of a ReLU network jumps from one linear piece to the
next. SmoothGrad averages an attribution method over copies of the input with Gaussian noise:
with ``a_s = A(x + ε_s)``, ε_s ~ N(0, σ²),

- ``'smoothgrad'``: (1/S) Σ_s a_s;
- ``'smoothgrad_sq'``: (1/S) Σ_s a_s² (Hooker et al. 2019);
- ``'vargrad'``: (1/S) Σ_s a_s² − ((1/S) Σ_s a_s)², the variance (Adebayo et al. 2018).

The running mean and variance are updated one draw at a time (Welford's algorithm), so
identical draws (σ = 0) give back the base attributions exactly.
"""

from __future__ import annotations

from ..backend import draw as draw_from
from ..backend import xp
from ..rng import get_generator
from ._model import (
    attribution_mode,
    check_batch_size,
    check_input,
    predict_targets,
    resolve_targets,
)
from .gradients import input_x_gradient, integrated_gradients, saliency

__all__ = ["SMOOTHGRAD_VARIANTS", "smoothgrad"]

SMOOTHGRAD_VARIANTS = ("smoothgrad", "smoothgrad_sq", "vargrad")
"""The ``variant`` names of :func:`smoothgrad` (Captum's ``nt_type`` names)."""

_METHODS = {"saliency": saliency, "input_x_gradient": input_x_gradient,
            "integrated_gradients": integrated_gradients, "ig": integrated_gradients}


def smoothgrad(model, x, target=None, method="saliency", samples: int = 50, stdev: float = 0.15,
               generator=None, variant: str = "smoothgrad", batch_size: int | None = None,
               **method_options):
    """Average an attribution method over noisy copies of the input.

    Parameters
    ----------
    model, x
        As :func:`~chainrule.explain.saliency`.
    target : None, int or sequence of int
        Resolved once, at the clean input (None: the predicted class), so every noisy copy
        explains the same output.
    method : {'saliency', 'input_x_gradient', 'integrated_gradients'} or callable
        The base method; a callable is called as
        ``method(model, x, target=targets, batch_size=batch_size, **method_options)``
        with one int target per row and returns attributions shaped as ``x``.
    samples : int
        Noisy copies per input (S).
    stdev : float
        σ of the Gaussian noise, in the input's units (0.15 is the paper's 15 % of the range
        for inputs scaled to [0, 1]). σ = 0 returns the base method's attributions exactly.
    generator : numpy.random.Generator, int or None
        The noise's randomness (an int seeds a new generator; None: the library default).
    variant : {'smoothgrad', 'smoothgrad_sq', 'vargrad'}
    batch_size : int, optional
        Rows per pass: ``batch_size // N`` noisy copies of the batch go through the base method
        together (default one copy of the batch at a time).
    **method_options
        Passed to the base method (for example ``abs=False`` or ``steps=20``).

    Returns
    -------
    ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import saliency, smoothgrad
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> x = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    >>> smooth = smoothgrad(model, x, samples=10, stdev=0.1, generator=0)
    >>> noiseless = smoothgrad(model, x, stdev=0.0, samples=3)
    >>> smooth.shape, bool(np.array_equal(noiseless, saliency(model, x)))
    ((2, 4), True)
    """
    owner = "smoothgrad"
    x = check_input(owner, x, model)
    base = _METHODS.get(method) if isinstance(method, str) else method
    if base is None or not callable(base):
        raise ValueError(f"{owner}: expected method to be one of {sorted(_METHODS)} or a callable, "
                         f"received {method!r}")
    if variant not in SMOOTHGRAD_VARIANTS:
        raise ValueError(f"{owner}: expected variant to be one of {list(SMOOTHGRAD_VARIANTS)}, "
                         f"received {variant!r}")
    if isinstance(samples, bool) or not isinstance(samples, (int, xp.integer)) or samples < 1:
        raise ValueError(f"{owner}: expected samples to be a positive int, received {samples!r}")
    stdev = float(stdev)
    if not stdev >= 0:
        raise ValueError(f"{owner}: expected stdev >= 0, received {stdev}")
    generator = get_generator(generator)
    count = len(x)
    batch_size = check_batch_size(owner, batch_size, count)
    copies_per_pass = max(1, batch_size // count)
    with attribution_mode(model):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
    mean = xp.zeros_like(x)
    spread = xp.zeros_like(x)  # Σ (a − mean_old)(a − mean_new): Welford's sum of squared deviations
    done = 0
    while done < samples:
        copies = min(copies_per_pass, samples - done)
        noise = draw_from(generator, "standard_normal", (copies,) + x.shape)
        noise = noise.astype(x.dtype) * x.dtype.type(stdev)
        noisy = (x[None] + noise).reshape((copies * count,) + x.shape[1:])
        attributions = base(model, noisy, target=xp.tile(targets, copies), batch_size=batch_size,
                            **method_options)
        for draw in xp.asarray(attributions).reshape((copies,) + x.shape):
            if variant == "smoothgrad_sq":
                draw = draw * draw
            done += 1
            previous = mean
            mean = mean + (draw - mean) / done
            spread = spread + (draw - previous) * (draw - mean)
    return spread / samples if variant == "vargrad" else mean
