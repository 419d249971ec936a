"""Grad-CAM (Selvaraju et al. 2017): where a conv layer's feature maps support the target.

For the activations A (N, K, *spatial) of a conv layer and the target output y_c:

- the weight of feature map k is its average gradient, ``α_k = mean_spatial ∂y_c/∂A_k``;
- the map is ``ReLU(Σ_k α_k A_k)`` (N, *spatial), at the layer's resolution;
- it is then resized to the input's spatial size (bilinear for images, linear for signals,
  as ``torch.nn.functional.interpolate(..., align_corners=False)``), so it can lie on the input.

The feature maps A are the conv layer's as the network uses them: when the conv layer is
followed, in its Sequential, by BatchNorm and an activation (conv → BatchNorm → ReLU, the
presets' blocks), A is taken after them, the rectified maps the paper uses (VGG's relu5_3);
``rectified=False`` takes the conv output itself (Captum's ``LayerGradCam`` on the conv
layer). The output is captured by wrapping that module's ``forward`` for the duration of the
call; the backward stops at the captured activations (nothing below them is differentiated).
"""

from __future__ import annotations

import contextlib

from .. import nn
from ..backend import scatter_add, xp
from ..nn import Conv1d, Conv2d
from ..tensor import Tensor
from ._model import (
    attribution_mode,
    check_batch_size,
    check_input,
    chunks,
    predict_targets,
    resolve_targets,
    target_gradients,
)

__all__ = ["INTERPOLATIONS", "conv_layers", "feature_maps_module", "find_conv_layer", "grad_cam",
           "resize"]

INTERPOLATIONS = ("bilinear", "nearest", None)
"""``interpolation`` choices of :func:`grad_cam` (None keeps the layer's resolution)."""

_CONV_TYPES = (Conv1d, Conv2d)
_FOLLOWERS = tuple(getattr(nn, name) for name in (
    "BatchNorm1d", "BatchNorm2d", "GroupNorm", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU",
    "SiLU", "Mish", "Softplus", "Hardtanh", "Tanh", "Sigmoid") if hasattr(nn, name))
"""Modules whose output is still the conv layer's feature maps, normalised or activated."""


def conv_layers(model) -> list[str]:
    """The dotted names of the model's Conv1d and Conv2d layers, in registration order."""
    return [name for name, module in model.named_modules() if isinstance(module, _CONV_TYPES)]


def feature_maps_module(model, name: str, module):
    """The module whose output is the conv layer's feature maps as the network uses them: the
    last of the BatchNorm and activation modules that directly follow it in its Sequential
    (conv → BatchNorm → ReLU gives the ReLU), or the conv layer itself."""
    parent_name, _, key = name.rpartition(".")
    parent = dict(model.named_modules()).get(parent_name)
    if not isinstance(parent, nn.Sequential):
        return module
    children = list(parent._modules.items())
    position = next(i for i, (k, _) in enumerate(children) if k == key)
    found = module
    for _, follower in children[position + 1:]:
        shared = sum(child is follower for _, child in children) > 1  # runs more than once
        if not isinstance(follower, _FOLLOWERS) or shared:
            break
        found = follower
    return found


def find_conv_layer(model, layer=None):
    """``(name, module)`` of the conv layer named by ``layer`` (a dotted name or the module
    itself); None picks the last conv layer, the usual choice for Grad-CAM."""
    owner = "grad_cam"
    named = dict(model.named_modules())
    available = conv_layers(model)
    if layer is None:
        if not available:
            raise ValueError(f"{owner}: the model has no Conv1d or Conv2d layer; Grad-CAM needs "
                             "one (use saliency or integrated_gradients for this model)")
        return available[-1], named[available[-1]]
    if isinstance(layer, str):
        if layer not in named:
            raise ValueError(f"{owner}: no layer named {layer!r} in the model; its conv layers are "
                             f"{available}")
        name, module = layer, named[layer]
    else:
        matches = [n for n, m in named.items() if m is layer]
        if not matches:
            raise ValueError(f"{owner}: the layer given ({type(layer).__name__}) is not part of "
                             f"the model; its conv layers are {available}")
        name, module = matches[0], layer
    if not isinstance(module, _CONV_TYPES):
        raise TypeError(f"{owner}: layer {name!r} is a {type(module).__name__}, expected a Conv1d "
                         f"or Conv2d layer; the model's conv layers are {available}")
    return name, module


@contextlib.contextmanager
def _capture(conv, maps_module):
    """Record the spatial size of each input ``conv`` receives, and make ``maps_module`` return
    its output as a fresh leaf that requires grad (so backward stops there and fills its
    ``.grad``); yields the two lists."""
    sizes, leaves = [], []

    def wrap(module):
        original = module.forward

        def forward(input, *args, **kwargs):
            if module is conv:
                sizes.append(tuple(getattr(input, "shape", ())[2:]))
            output = original(input, *args, **kwargs)
            if module is maps_module:
                output = Tensor(output.data, requires_grad=True, dtype=output.dtype)
                leaves.append(output)
            return output

        object.__setattr__(module, "forward", forward)

    modules = [conv] if conv is maps_module else [conv, maps_module]
    for module in modules:
        wrap(module)
    try:
        yield sizes, leaves
    finally:
        for module in modules:
            object.__delattr__(module, "forward")


def _resize_matrix(size_in: int, size_out: int, interpolation: str, dtype):
    """(size_out, size_in) matrix R with resized = R @ values along one axis.

    Linear with ``align_corners=False`` (PyTorch): output i samples the input at
    s = max((i + ½)·size_in/size_out − ½, 0), between ⌊s⌋ and ⌊s⌋ + 1 (clamped). Nearest
    (PyTorch's 'nearest'): input ⌊i·size_in/size_out⌋.
    """
    matrix = xp.zeros((size_out, size_in), dtype=dtype)
    rows = xp.arange(size_out)
    scale = size_in / size_out
    if interpolation == "nearest":
        matrix[rows, xp.minimum(xp.floor(rows * scale).astype(xp.int64), size_in - 1)] = 1
        return matrix
    source = xp.maximum((rows + 0.5) * scale - 0.5, 0.0)
    low = xp.minimum(xp.floor(source).astype(xp.int64), size_in - 1)
    high = xp.minimum(low + 1, size_in - 1)
    upper = source - low
    scatter_add(matrix, (rows, low), 1 - upper)
    scatter_add(matrix, (rows, high), upper)
    return matrix


def resize(maps, size, interpolation: str = "bilinear"):
    """Resize (N, *spatial) maps to (N, *size), separably along each spatial axis.

    Examples
    --------
    >>> import numpy as np
    >>> resize(np.array([[0.0, 1.0]]), (4,)).tolist()
    [[0.0, 0.25, 0.75, 1.0]]
    """
    maps = xp.asarray(maps)
    for axis, size_out in enumerate(size, start=1):
        matrix = _resize_matrix(maps.shape[axis], int(size_out), interpolation, maps.dtype)
        maps = xp.moveaxis(xp.tensordot(matrix, maps, axes=([1], [axis])), 0, axis)
    return maps


def _input_spatial(model, x, layer_input, spatial_dims: int):
    """The spatial size the map is resized to: x's own (N, C, *spatial), else the model's
    ``input_shape`` (presets reshape flat rows), else the size the conv layer received."""
    if x.ndim == spatial_dims + 2:
        return tuple(x.shape[2:])
    shape = getattr(model, "input_shape", None)
    if shape is not None and len(shape) == spatial_dims + 1:
        return tuple(int(s) for s in shape[1:])
    return tuple(layer_input)


def grad_cam(model, x, target=None, layer=None, relu: bool = True,
             interpolation: str | None = "bilinear", rectified: bool = True,
             batch_size: int | None = None):
    """Grad-CAM maps of a conv layer for the target output, resized to the input's size.

    Parameters
    ----------
    model, x, target
        As :func:`~chainrule.explain.saliency`; ``x`` is (N, C, H, W) for a Conv2d network,
        (N, C, L) for Conv1d, or the flat rows a preset reshapes itself.
    layer : str or Module, optional
        The conv layer (Conv1d or Conv2d), by dotted name (``"net.4"``, see
        :func:`conv_layers`) or the module itself; None takes the last conv layer.
    relu : bool
        Keep only the positive evidence (the paper's ReLU; Captum's ``relu_attributions``).
    interpolation : {'bilinear', 'nearest', None}
        How the map is resized to the input's spatial size ('bilinear' is linear along each
        axis, so also right for 1-D signals); None returns it at the layer's resolution.
    rectified : bool
        Take the feature maps after the BatchNorm and activation that follow the conv layer
        in its Sequential (see :func:`feature_maps_module`); False: the conv output itself.
    batch_size : int, optional
        Rows per pass (default the whole batch).

    Returns
    -------
    ndarray, shape (N, *spatial)
        One map per sample: (N, H, W) for images, (N, L) for signals.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> from chainrule.explain import grad_cam
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    ...                       nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    >>> x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    >>> grad_cam(model, x, layer="0").shape
    (2, 8, 8)
    """
    owner = "grad_cam"
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{owner}: expected interpolation to be one of {list(INTERPOLATIONS)}, "
                         f"received {interpolation!r}")
    x = check_input(owner, x, model)
    batch_size = check_batch_size(owner, batch_size, len(x))
    name, module = find_conv_layer(model, layer)
    maps_module = feature_maps_module(model, name, module) if rectified else module
    maps = []
    with attribution_mode(model), _capture(module, maps_module) as (sizes, leaves):
        targets = resolve_targets(owner, target, predict_targets(owner, model, x, batch_size))
        for part in chunks(len(x), batch_size):
            del sizes[:], leaves[:]
            target_gradients(owner, model, x[part], targets[part], batch_size)
            if len(leaves) != 1:
                raise ValueError(f"{owner}: layer {name!r} ran {len(leaves)} times in one "
                                 "forward pass; Grad-CAM needs a layer that runs once")
            activations = leaves[0].data
            gradients = xp.zeros_like(activations) if leaves[0].grad is None else leaves[0].grad
            weights = gradients.mean(axis=tuple(range(2, activations.ndim)), keepdims=True)  # α_k
            maps.append((weights * activations).sum(axis=1))  # Σ_k α_k A_k
    cam = xp.concatenate(maps)
    if relu:
        cam = xp.maximum(cam, 0)
    if interpolation is None:
        return cam
    return resize(cam, _input_spatial(model, x, sizes[0], cam.ndim - 1), interpolation)
