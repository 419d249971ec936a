"""The attribution methods by name, and :func:`attribute`, which calls one by its name."""

from __future__ import annotations

from collections.abc import Callable

from .cam import grad_cam
from .gradients import input_x_gradient, integrated_gradients, saliency
from .noise import smoothgrad
from .occlusion import occlusion

__all__ = ["ALIASES", "METHODS", "attribute", "resolve_method"]

METHODS: dict[str, Callable] = {
    "saliency": saliency,
    "input_x_gradient": input_x_gradient,
    "integrated_gradients": integrated_gradients,
    "smoothgrad": smoothgrad,
    "grad_cam": grad_cam,
    "occlusion": occlusion,
}
"""Every method's function, by its name."""

ALIASES = {"ig": "integrated_gradients", "grad-cam": "grad_cam", "gradcam": "grad_cam",
           "input-x-gradient": "input_x_gradient", "ixg": "input_x_gradient"}
"""Short names (the CLI's) for :data:`METHODS`."""


def resolve_method(owner: str, method) -> Callable:
    """The function of ``method``: a name of :data:`METHODS` (or an alias), or a callable."""
    if callable(method):
        return method
    name = ALIASES.get(method, method) if isinstance(method, str) else None
    if name not in METHODS:
        raise ValueError(f"{owner}: expected method to be one of {sorted(METHODS)} (or "
                         f"{sorted(ALIASES)}) or a callable, received {method!r}")
    return METHODS[name]


def attribute(model, x, method="integrated_gradients", target=None, **options):
    """Attributions of ``model`` at ``x`` by the method named ``method``.

    ``attribute(model, x, "ig", target=3, steps=100)`` is
    ``integrated_gradients(model, x, target=3, steps=100)``.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import attribute, saliency
    >>> model = nn.Linear(3, 2)
    >>> x = np.ones((1, 3), dtype=np.float32)
    >>> bool(np.array_equal(attribute(model, x, "saliency", target=0), saliency(model, x, 0)))
    True
    """
    return resolve_method("attribute", method)(model, x, target=target, **options)
