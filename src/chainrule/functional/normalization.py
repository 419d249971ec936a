"""Normalisation and lookup primitives: ``batch_norm``, ``layer_norm``, ``embedding``.

Batch and layer normalisation are fused: one forward that standardises the
input and one backward with the closed-form vector–Jacobian product, which is
cheaper and more stable than differentiating through mean, var and sqrt
separately. Both share the same equations, only the axes differ:

    x̂ = (x − μ) / σ,   σ = √(var + eps),   y = γ ⊙ x̂ + β

with μ and var (the *biased* variance) taken over the normalised axes (m
elements). With g = ∂L/∂y and ĝ = g ⊙ γ:

    ∂L/∂β = Σ g,   ∂L/∂γ = Σ g ⊙ x̂   (summed over the axes γ is broadcast along)
    ∂L/∂x = (1/σ) (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂))   (means over the normalised axes)
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import is_float_dtype, scatter_add, xp
from ..tensor import Tensor
from .shape import reshape

__all__ = ["batch_norm", "embedding", "group_norm", "layer_norm"]


def _affine(x_hat, weight, bias, shape):
    """y = γ ⊙ x̂ + β, with γ and β (each optional) reshaped to broadcast as ``shape``."""
    y = x_hat if weight is None else x_hat * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _affine_grads(g, x_hat, axes, needs):
    """(∂L/∂γ, ∂L/∂β) = (Σ g ⊙ x̂, Σ g) over ``axes``, each only if its input needs it."""
    gw = (g * x_hat).sum(axis=axes) if len(needs) > 1 and needs[1] else None
    gb = g.sum(axis=axes) if len(needs) > 2 and needs[2] else None
    return gw, gb


def _standardize_backward(g_hat, x_hat, inv_std, axes):
    """(1/σ) (ĝ − mean(ĝ) − x̂ mean(ĝ x̂)) with the means over ``axes``."""
    mean_g = g_hat.mean(axis=axes, keepdims=True)
    mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
    return inv_std * (g_hat - mean_g - x_hat * mean_gx)


class BatchNormTrain(Function):
    """Batch normalisation with the batch's own statistics (training mode).

    Input x is (N, C, *) and the statistics are per channel C, over the axes
    (0, 2, 3, ...), m = N·∏(*) elements each. γ and β are (C,) or None.

    Forward: y = γ x̂ + β with x̂ = (x − μ_B)/√(var_B + eps) (biased var_B).
    When ``running_mean``/``running_var`` arrays are given they are moved in
    place towards μ_B and the unbiased var_B·m/(m − 1) by ``factor``.
    Backward (per channel, sums and means over the m elements):
    ∂L/∂β = Σ g, ∂L/∂γ = Σ g x̂, ∂L/∂x = (1/σ)(ĝ − mean ĝ − x̂ mean(ĝ x̂)), ĝ = γ g.
    """

    def forward(
        self, x, weight=None, bias=None, running_mean=None, running_var=None, factor=0.1, eps=1e-5
    ):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = centred * inv_std
        self.axes, self.shape, self.x_hat, self.inv_std, self.weight = (
            axes,
            shape,
            x_hat,
            inv_std,
            weight,
        )
        if running_mean is not None:
            count = x.size // x.shape[1]
            running_mean *= 1 - factor
            running_mean += factor * mean.reshape(-1)
            running_var *= 1 - factor
            running_var += (factor * count / (count - 1)) * var.reshape(-1)
        return _affine(x_hat, weight, bias, shape)

    def backward(self, g):
        needs = self.needs_input_grad
        gx = None
        gw, gb = _affine_grads(g, self.x_hat, self.axes, needs)
        if needs[0]:
            g_hat = g if self.weight is None else g * self.weight.reshape(self.shape)
            gx = _standardize_backward(g_hat, self.x_hat, self.inv_std, self.axes)
        return gx, gw, gb


class BatchNormEval(Function):
    """Batch normalisation with fixed (running) statistics: an affine map per channel.

    y = γ (x − μ_run)/σ_run + β, so ∂L/∂x = g γ/σ_run, ∂L/∂γ = Σ g x̂, ∂L/∂β = Σ g.
    """

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, eps=1e-5):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        inv_std = (1.0 / xp.sqrt(running_var + eps)).astype(x.dtype, copy=False).reshape(shape)
        x_hat = (x - running_mean.astype(x.dtype, copy=False).reshape(shape)) * inv_std
        self.axes, self.shape, self.x_hat, self.inv_std, self.weight = (
            axes,
            shape,
            x_hat,
            inv_std,
            weight,
        )
        return _affine(x_hat, weight, bias, shape)

    def backward(self, g):
        needs = self.needs_input_grad
        gx = None
        gw, gb = _affine_grads(g, self.x_hat, self.axes, needs)
        if needs[0]:
            scale = (
                self.inv_std
                if self.weight is None
                else self.inv_std * self.weight.reshape(self.shape)
            )
            gx = g * scale
        return gx, gw, gb


class LayerNorm(Function):
    """Layer normalisation over the last k axes (those of ``normalized_shape``).

    Forward: y = γ x̂ + β, x̂ = (x − μ)/√(var + eps), μ and biased var per sample
    over the last k axes; γ, β have shape ``normalized_shape`` (or are None).
    Backward: ∂L/∂γ = Σ_batch g x̂, ∂L/∂β = Σ_batch g,
    ∂L/∂x = (1/σ)(ĝ − mean ĝ − x̂ mean(ĝ x̂)) with ĝ = γ g and the means over the last k axes.
    """

    def forward(self, x, weight=None, bias=None, num_axes=1, eps=1e-5):
        axes = tuple(range(x.ndim - num_axes, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = centred * inv_std
        self.axes, self.batch_axes = axes, tuple(range(x.ndim - num_axes))
        self.x_hat, self.inv_std, self.weight = x_hat, inv_std, weight
        return _affine(x_hat, weight, bias, x_hat.shape[len(self.batch_axes):])

    def backward(self, g):
        needs = self.needs_input_grad
        gx = None
        gw, gb = _affine_grads(g, self.x_hat, self.batch_axes, needs)
        if needs[0]:
            g_hat = g if self.weight is None else g * self.weight
            gx = _standardize_backward(g_hat, self.x_hat, self.inv_std, self.axes)
        return gx, gw, gb


class Embedding(Function):
    """Row lookup y = W[indices], W (num_embeddings, dim), y (*indices.shape, dim).

    Backward: ∂L/∂W is zero except that row k receives Σ of g over the
    positions where indices == k (scatter-add). The ``padding_idx`` row gets
    no gradient. The integer indices get none either.
    """

    def forward(self, weight, indices=None, padding_idx=None):
        self.indices, self.padding_idx = indices, padding_idx
        self.weight_shape, self.dtype = weight.shape, weight.dtype
        return weight[indices]

    def backward(self, g):
        grad = xp.zeros(self.weight_shape, dtype=g.dtype)
        scatter_add(grad, self.indices.reshape(-1), g.reshape(-1, self.weight_shape[1]))
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        return (grad,)


def _data(x):
    return x.data if isinstance(x, Tensor) else (None if x is None else xp.asarray(x))


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked=None) -> Tensor:
    """Batch normalisation per channel of an (N, C, *) input (PyTorch's ``F.batch_norm``).

    In training mode (or without running statistics) the batch's mean and
    *biased* variance over all axes but 1 normalise the input, and the running
    buffers (ndarrays of shape (C,), updated in place when given) move towards
    the batch statistics::

        running_mean ← (1 − momentum) running_mean + momentum μ_B
        running_var  ← (1 − momentum) running_var  + momentum var_B · m/(m − 1)   (unbiased)

    With ``momentum=None`` the cumulative average is kept instead (factor
    1/num_batches_tracked, which the caller increments first). In evaluation
    mode the running statistics normalise the input.

    Parameters
    ----------
    input : Tensor (N, C) or (N, C, L) or (N, C, H, W)
    running_mean, running_var : ndarray (C,) or None
    weight, bias : Tensor (C,) or None (γ and β)
    training : bool
    momentum : float or None
    eps : float

    Returns
    -------
    Tensor of the input's shape: y = γ (x − μ)/√(var + eps) + β.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(
            "batch_norm: expected input with at least 2 dimensions (N, C, ...), received shape "
            f"{x.shape}"
        )
    channels = x.shape[1]
    for name, value in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                        ("running_var", running_var)):
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(
                f"batch_norm: expected {name} of shape ({channels},), received {tuple(value.shape)}"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if training or running_mean is None:
        count = x.data.size // channels
        if count <= 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, received input "
                f"shape {x.shape}"
            )
        if not training:
            running_mean = running_var = None
        if momentum is None:
            tracked = 1 if num_batches_tracked is None else int(num_batches_tracked)
            factor = 1.0 / max(tracked, 1)
        else:
            factor = float(momentum)
        return BatchNormTrain.apply(
            x,
            weight,
            bias,
            running_mean=running_mean,
            running_var=running_var,
            factor=factor,
            eps=eps,
        )
    return BatchNormEval.apply(
        x, weight, bias, running_mean=running_mean, running_var=running_var, eps=eps
    )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` axes (as ``F.layer_norm``).

    Shapes: input (*, *normalized_shape) → the same shape; weight and bias
    (γ, β) have shape ``normalized_shape``. y = γ (x − μ)/√(var + eps) + β with
    μ and the biased var per sample.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    normalized_shape = (
        (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    k = len(normalized_shape)
    if k == 0 or tuple(x.shape[x.ndim - k:]) != normalized_shape or x.ndim < k:
        raise ValueError(
            f"layer_norm: expected input whose last dimensions are {normalized_shape}, received "
            f"shape {x.shape}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != normalized_shape:
            raise ValueError(
                f"layer_norm: expected {name} of shape {normalized_shape}, received "
                f"{tuple(value.shape)}"
            )
    return LayerNorm.apply(x, weight, bias, num_axes=k, eps=eps)


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer ``input`` indices.

    Shapes: input (*) integers in [0, num_embeddings) → output (*, dim).
    The ``padding_idx`` row (if given) receives no gradient.
    """
    indices = _data(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, received dtype {indices.dtype}")
    num = weight.shape[0]
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num):
        bad = int(indices.min()) if int(indices.min()) < 0 else int(indices.max())
        raise ValueError(f"embedding: index {bad} is out of range; expected indices in [0, {num})")
    if not is_float_dtype(weight.dtype):
        raise TypeError(f"embedding: expected a floating weight, received dtype {weight.dtype}")
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Group normalisation (Wu & He, 2018), PyTorch's ``F.group_norm``.

    The C channels of each sample are split into ``num_groups`` groups; each group
    (its channels and all spatial positions) is standardised with its own mean and
    biased variance, then y = γ_c x̂ + β_c per channel. Composed: the standardisation
    is the :class:`LayerNorm` primitive on the (N, G, C/G · spatial) view, followed
    by the per-channel affine map, so the gradient is theirs chained.

    Shapes: input (N, C, *) → the same; weight and bias (C,).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> y = F.group_norm(cr.tensor(np.arange(8.0).reshape(1, 4, 2)), 2)
    >>> [round(v, 3) for v in y.numpy()[0, :2].ravel().tolist()]  # group 0 holds 0, 1, 2, 3
    [-1.342, -0.447, 0.447, 1.342]
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), received {x.shape}")
    channels = x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, int) or num_groups < 1 \
            or channels % num_groups:
        raise ValueError(f"group_norm: num_groups must be a positive int dividing the {channels} "
                         f"channels, received {num_groups!r}")
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (channels,):
            raise ValueError(f"group_norm: expected {name} of shape ({channels},), "
                             f"received {tuple(value.shape)}")
    grouped = reshape(x, (x.shape[0], num_groups, -1))
    y = reshape(LayerNorm.apply(grouped, num_axes=1, eps=eps), x.shape)
    affine_shape = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * reshape(weight, affine_shape)
    if bias is not None:
        y = y + reshape(bias, affine_shape)
    return y
