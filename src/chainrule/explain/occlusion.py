"""Occlusion (Zeiler & Fergus 2014): how much the target output drops when a patch is hidden.

A window slides over each sample with a stride; at each position the covered values are
replaced by the baseline and the model is run again. Every value covered by the window gets
the drop ``f_c(x) − f_c(x with the window occluded)``, and each value's attribution is the
average drop over the windows that covered it (as Captum's ``Occlusion``). Windows start at
multiples of the stride, ``⌈(size − window)/stride⌉ + 1`` per axis, the last one clipped at
the edge, so every value is covered. No gradients: only forward passes, batched over
positions and samples.
"""

from __future__ import annotations

import itertools
import math

from ..autograd import no_grad
from ..backend import xp
from ._model import (
    attribution_mode,
    check_baseline,
    check_batch_size,
    check_input,
    predict_targets,
    resolve_targets,
    target_outputs,
)

__all__ = ["occlusion", "window_positions"]


def _sizes(owner: str, name: str, value, sample_shape) -> tuple:
    """A window or stride as one size per sample axis.

    An int applies to every axis of a 1-D sample and to every axis but the first (the
    channels, covered whole) of a larger one; a shorter tuple applies to the trailing axes.
    """
    ndim = len(sample_shape)
    if isinstance(value, (int, xp.integer)) and not isinstance(value, bool):
        value = (int(value),) * (ndim if ndim == 1 else ndim - 1)
    value = tuple(value)
    if not value or len(value) > ndim or any(
            isinstance(v, bool) or not isinstance(v, (int, xp.integer)) or v < 1 for v in value):
        raise ValueError(f"{owner}: expected {name} to be a positive int or a tuple of at most "
                         f"{ndim} positive ints (one per sample axis {tuple(sample_shape)}), "
                         f"received {value!r}")
    return tuple(sample_shape[: ndim - len(value)]) + tuple(int(v) for v in value)


def window_positions(sample_shape, window, stride) -> list[tuple[slice, ...]]:
    """The slices of every window position over one sample of ``sample_shape``."""
    axes = []
    for size, width, step in zip(sample_shape, window, stride, strict=True):
        shifts = math.ceil((size - width) / step) + 1
        axes.append([slice(k * step, min(k * step + width, size)) for k in range(shifts)])
    return list(itertools.product(*axes))


def occlusion(model, x, target=None, window=3, stride=None, baseline=0.0,
              batch_size: int | None = None):
    """Attribute by occluding sliding windows with ``baseline`` values.

    Parameters
    ----------
    model, x, target
        As :func:`~chainrule.explain.saliency`.
    window : int or tuple of int
        The window, per sample axis. An int covers that many values along every axis of a
        1-D sample (tabular rows, or one-channel signals given flat), and along every axis but
        the first (channels, occluded together) of a (C, H, W) image or (C, L) signal; a
        tuple shorter than the sample applies to its trailing axes.
    stride : int or tuple of int, optional
        The step between windows, as ``window`` (default 1); at most the window's size on
        every axis the window does not cover whole, so no value is skipped.
    baseline : float or array_like
        What replaces the occluded values: a number or one sample's shape (or ``x``'s shape).
    batch_size : int, optional
        Occluded copies per forward pass (default N: one window position for the batch).

    Returns
    -------
    ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import occlusion
    >>> model = nn.Linear(4, 1, bias=False)
    >>> model.weight.data[:] = [[1.0, 2.0, 3.0, 4.0]]
    >>> occlusion(model, np.ones((1, 4), dtype=np.float32), window=1).tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    owner = "occlusion"
    x = check_input(owner, x, model)
    baseline = check_baseline(owner, baseline, x)
    sample_shape = x.shape[1:]
    if not sample_shape:
        raise ValueError(f"{owner}: expected samples with at least one axis, (N, ...), received "
                         f"shape {x.shape}")
    window = _sizes(owner, "window", window, sample_shape)
    stride = _sizes(owner, "stride", 1 if stride is None else stride, sample_shape)
    for size, width, step in zip(sample_shape, window, stride, strict=True):
        if width > size:
            raise ValueError(f"{owner}: window {window} is larger than a sample {sample_shape}")
        if width < size and step > width:
            raise ValueError(f"{owner}: stride {stride} is larger than window {window} on an axis "
                             "the window does not cover whole; values would be skipped")
    count = len(x)
    batch_size = check_batch_size(owner, batch_size, count)
    positions = window_positions(sample_shape, window, stride)
    total = xp.zeros_like(x)
    covered = xp.zeros(sample_shape, dtype=x.dtype)
    for region in positions:
        covered[region] += 1
    with attribution_mode(model), no_grad():
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
        reference = target_outputs(owner, model, x, targets, batch_size)
        per_pass = max(1, batch_size // count)  # window positions per forward pass
        for first in range(0, len(positions), per_pass):
            group = positions[first:first + per_pass]
            occluded = xp.repeat(x[None], len(group), axis=0)
            for copy, region in zip(occluded, group, strict=True):
                copy[(slice(None),) + region] = baseline[(slice(None),) + region]
            rows = occluded.reshape((len(group) * count,) + sample_shape)
            drops = reference - target_outputs(owner, model, rows, xp.tile(targets, len(group)),
                                               batch_size).reshape(len(group), count)
            for drop, region in zip(drops, group, strict=True):
                index = (slice(None),) + region
                total[index] += drop.reshape((count,) + (1,) * len(sample_shape))
    return total / covered
