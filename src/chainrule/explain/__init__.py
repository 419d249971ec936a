"""Explain a trained network: which parts of the input its output depends on.

The backward pass that trains a network also gives the gradient of an output with respect
to the input; every method here is built on it or on forward passes alone:

1. :func:`saliency` — ``|∂y_c/∂x|`` (or signed), one backward per batch;
2. :func:`input_x_gradient` — ``x ⊙ ∂y_c/∂x``;
3. :func:`integrated_gradients` — ``(x − x′) ⊙ ∫₀¹ ∇f_c(x′ + α(x − x′)) dα`` by quadrature,
   the path points batched through the network; complete: Σ IG = f_c(x) − f_c(x′), which
   :func:`completeness_delta` checks;
4. :func:`smoothgrad` — any of these averaged over noisy copies (also squared, VarGrad);
5. :func:`grad_cam` — a conv layer's feature maps weighted by their mean gradient, resized
   to the input;
6. :func:`occlusion` — the drop of the output when a sliding window is hidden;
7. :func:`randomization_test` — the sanity check of Adebayo et al.: maps that survive the
   destruction of the weights explain the input, not the model.

:func:`attribute` calls any of them by name (``attribute(model, x, "ig", target=3)``).

Every method takes ``(model, x, target)`` with ``x`` a batch (N, ...) of floats and returns
an array shaped like ``x`` (Grad-CAM: (N, *spatial)). ``target`` is None (the predicted class),
an int, or one int per sample. The model runs in ``eval()`` mode with its parameter gradients
off, and both are restored afterwards.

Examples
--------
>>> import numpy as np, chainrule.nn as nn
>>> from chainrule import explain
>>> model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
>>> x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
>>> ig, delta = explain.integrated_gradients(model, x, target=2, return_delta=True)
>>> ig.shape, bool(np.abs(delta).max() < 1e-4)
((5, 4), True)
"""

from __future__ import annotations

from ._model import StandardizedInput, TwoClassLogits
from .cam import conv_layers, grad_cam
from .gradients import (
    PATH_METHODS,
    completeness_delta,
    input_x_gradient,
    integrated_gradients,
    saliency,
)
from .methods import METHODS, attribute
from .noise import SMOOTHGRAD_VARIANTS, smoothgrad
from .occlusion import occlusion
from .sanity import RandomizationResult, randomization_test, spearman

__all__ = [
    "METHODS",
    "PATH_METHODS",
    "SMOOTHGRAD_VARIANTS",
    "RandomizationResult",
    "StandardizedInput",
    "TwoClassLogits",
    "attribute",
    "completeness_delta",
    "conv_layers",
    "grad_cam",
    "input_x_gradient",
    "integrated_gradients",
    "occlusion",
    "randomization_test",
    "saliency",
    "smoothgrad",
    "spearman",
]
