"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm`` and ``GroupNorm``."""

from __future__ import annotations

from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from . import init
from .linear import as_input, check_positive_int, resolve_dtype
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm"]


class _BatchNorm(Module):
    """Shared code of the batch-norm layers; subclasses set ``_ndims`` (accepted input ranks)."""

    _ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None, generator=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = check_positive_int(name, "num_features", num_features)
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps <= 0:
            raise ValueError(f"{name}: eps must be a positive number, received {eps!r}")
        if momentum is not None and (
            isinstance(momentum, bool)
            or not isinstance(momentum, (int, float))
            or not 0.0 <= momentum <= 1.0
        ):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, received {momentum!r}")
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = resolve_dtype(name, dtype)
        if self.affine:
            self.weight = Parameter(xp.ones(self.num_features, dtype=dtype), dtype=dtype)
            self.bias = Parameter(xp.zeros(self.num_features, dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", xp.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", xp.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", xp.zeros((), dtype=xp.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters(generator)

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: weight (γ) ones, bias (β) zeros, and fresh running statistics.

        Deterministic, so ``generator`` is accepted for a uniform interface and unused.
        """
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        reference = self.weight if self.affine else self.running_mean
        x = as_input(input, None if reference is None else reference.dtype)
        if x.ndim not in self._ndims:
            expected = " or ".join(f"{n}-D" for n in self._ndims)
            raise ValueError(
                f"{self!r}: expected {expected} input, received shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input with {self.num_features} channels in dimension 1, "
                f"received shape {tuple(x.shape)}"
            )
        # A frozen BatchNorm runs in inference mode even in train(): it normalises with its
        # running statistics and keeps them (Keras' rule for trainable=False).
        active = self.training and not self.frozen
        use_batch_stats = active or not self.track_running_stats
        update = active and self.track_running_stats
        if update:
            self.num_batches_tracked[...] += 1
        return F.batch_norm(
            x,
            self.running_mean if (update or not use_batch_stats) else None,
            self.running_var if (update or not use_batch_stats) else None,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=self.momentum,
            eps=self.eps,
            num_batches_tracked=self.num_batches_tracked,
        )

    def get_config(self) -> dict:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats}

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation per feature of an (N, C) or (N, C, L) input (``nn.BatchNorm1d``).

    Training: y = γ (x − μ_B)/√(var_B + eps) + β with the batch mean μ_B and
    *biased* variance var_B per channel; the buffers move towards the batch
    statistics, running_mean ← (1 − momentum)·running_mean + momentum·μ_B and
    running_var ← (1 − momentum)·running_var + momentum·var_B·m/(m − 1)
    (the *unbiased* variance, m values per channel); ``num_batches_tracked``
    (an int64 scalar) counts the batches. Evaluation: the running statistics
    replace the batch's. ``momentum=None`` keeps a cumulative average.

    Parameters: ``weight`` (γ, ones) and ``bias`` (β, zeros), both (C,), when ``affine``.
    """

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of an (N, C, H, W) input (PyTorch's ``nn.BatchNorm2d``).

    The same equations as :class:`BatchNorm1d`, with the statistics over N, H and W.
    """

    _ndims = (4,)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions (PyTorch's ``nn.LayerNorm``).

    y = γ (x − μ)/√(var + eps) + β, with μ and the biased var over the last
    ``len(normalized_shape)`` dimensions of each sample. Shapes: (*, *normalized_shape)
    → the same. ``weight`` (γ, ones) and ``bias`` (β, zeros) have shape
    ``normalized_shape`` when ``elementwise_affine``; the statistics are the
    same in training and evaluation.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None, generator=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        try:
            normalized_shape = tuple(normalized_shape)
        except TypeError:
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, received "
                f"{type(normalized_shape).__name__}"
            ) from None
        if not normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must not be empty")
        self.normalized_shape = tuple(
            check_positive_int("LayerNorm", "normalized_shape", n) for n in normalized_shape
        )
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps <= 0:
            raise ValueError(f"LayerNorm: eps must be a positive number, received {eps!r}")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = resolve_dtype("LayerNorm", dtype)
        self._dtype = dtype
        if self.elementwise_affine:
            self.weight = Parameter(xp.ones(self.normalized_shape, dtype=dtype), dtype=dtype)
            if bias:
                self.bias = Parameter(xp.zeros(self.normalized_shape, dtype=dtype), dtype=dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: weight ones, bias zeros (``generator`` unused)."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        x = as_input(input, self.weight.dtype if self.weight is not None else None)
        k = len(self.normalized_shape)
        if x.ndim < k or tuple(x.shape[x.ndim - k:]) != self.normalized_shape:
            raise ValueError(
                f"{self!r}: expected input whose last dimensions are {self.normalized_shape}, "
                f"received shape {tuple(x.shape)}"
            )
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self) -> dict:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None}

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class GroupNorm(Module):
    """Group normalisation (Wu & He, 2018; PyTorch's ``nn.GroupNorm``).

    The channels of each sample are split into ``num_groups`` groups, each standardised
    over its channels and spatial positions: y = γ_c (x − μ_g)/√(var_g + eps) + β_c.
    Independent of the batch size, so it behaves the same in training and evaluation.

    Parameters
    ----------
    num_groups : int
        Must divide ``num_channels``. 1 group normalises like LayerNorm over (C, *);
        C groups is instance normalisation.
    num_channels : int
    eps : float
    affine : bool
        Learn per-channel ``weight`` (ones) and ``bias`` (zeros), each (C,).

    Notes
    -----
    Shapes: input (N, C, *) → the same.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn
    >>> nn.GroupNorm(2, 4)(np.random.default_rng(0).normal(size=(3, 4, 5))).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype=None, generator=None):
        super().__init__()
        self.num_groups = check_positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = check_positive_int("GroupNorm", "num_channels", num_channels)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or eps <= 0:
            raise ValueError(f"GroupNorm: eps must be a positive number, received {eps!r}")
        self.eps, self.affine = float(eps), bool(affine)
        dtype = resolve_dtype("GroupNorm", dtype)
        self._dtype = dtype
        if self.affine:
            self.weight = Parameter(xp.ones(self.num_channels, dtype=dtype), dtype=dtype)
            self.bias = Parameter(xp.zeros(self.num_channels, dtype=dtype), dtype=dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self, generator=None) -> None:
        """PyTorch's default: weight ones, bias zeros (``generator`` unused)."""
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input) -> Tensor:
        x = as_input(input, self.weight.dtype if self.affine else self._dtype)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.num_channels}, *), "
                             f"received {tuple(x.shape)}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def get_config(self) -> dict:
        return {"num_groups": self.num_groups, "num_channels": self.num_channels, "eps": self.eps,
                "affine": self.affine}

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
