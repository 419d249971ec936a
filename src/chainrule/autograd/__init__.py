"""Graph recording, the reverse-mode backward engine, ``no_grad``, ``grad`` and ``gradcheck``.

How it works
------------
Every differentiable primitive is a subclass of :class:`Function` with a
``forward`` (arrays in, one array out) and a ``backward`` (the gradient of the
loss with respect to the output in, the gradients with respect to each input
out: the vector–Jacobian product). ``Function.apply`` runs the forward and,
when grad mode is on and some input requires grad, records the call as the
output tensor's ``_ctx`` node (its ``grad_fn``).

``Tensor.backward`` and :func:`grad` hand the roots to the engine
(:mod:`chainrule.autograd.engine`), which

1. orders the recorded nodes topologically with an explicit stack (never
   recursion, so a chain of 100,000 ops is fine),
2. walks them from the output back to the leaves, calling each node's
   ``backward`` once with the sum of the gradients that reached its output
   (after checking that nothing it saved was modified in place since, and
   after the tensor's hooks, which may replace that gradient),
3. sums each returned gradient back to its input's shape where the forward
   broadcast it (:func:`unbroadcast`, the only place this happens),
4. accumulates into the ``.grad`` of leaves with ``+=`` (so gradients add up
   across calls until ``zero_grad``), and
5. releases the arrays that nodes saved for backward, unless
   ``retain_graph=True``.

The package: :mod:`~.grad_mode` (no_grad, anomaly mode), :mod:`~.engine` (the
walk, no Tensor import), :mod:`~.function` (Function), :mod:`~.hooks` (hook
handles), :mod:`~.gradcheck`, :mod:`~.functional_api` (:func:`grad`).
"""

from .engine import VersionCounter, unbroadcast
from .function import Function
from .functional_api import grad
from .grad_mode import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck
from .hooks import RemovableHandle

__all__ = [
    "AnomalyError",
    "Function",
    "GradcheckError",
    "RemovableHandle",
    "VersionCounter",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
    "unbroadcast",
]
