"""Synchronised batch normalisation: BatchNorm whose statistics span every process's batch.

With data parallelism each process holds a shard x_r (m_r values per channel)
of the global batch x (m = Σ_r m_r values per channel). Plain BatchNorm
normalises each shard by its own statistics, which differs from what one
process would compute on the whole batch. Synchronised BatchNorm all-reduces
the per-channel sums, so every shard is normalised by the global statistics:

    μ = (1/m) Σ_r Σ_i x_r,i,   var = (1/m) Σ_r Σ_i (x_r,i − μ)²   (biased, two all-reduces)
    x̂ = (x − μ)/σ,  σ = √(var + eps),  y = γ x̂ + β

Backward (the vector–Jacobian product). The strategy weights rank r's
gradients by w_r = m_r/m before summing them (rank r's loss is the mean over
its own samples, the global loss is Σ_r w_r L_r), so the true upstream
gradient at rank r is w_r g_r. Writing ĝ_r = γ g_r and the all-reduced
per-channel sums

    A = Σ_r w_r Σ_i ĝ_r,i,      B = Σ_r w_r Σ_i ĝ_r,i x̂_r,i

the gradient of the global loss with respect to x_r is
(1/σ)(w_r ĝ_r − A/m − x̂_r B/m); rank r returns it divided by w_r (the
strategy's weighting multiplies it back), that is

    ∂L/∂x_r = (1/σ)(ĝ_r − A/m_r − x̂_r B/m_r),
    ∂L/∂γ = Σ_i g_r,i x̂_r,i,   ∂L/∂β = Σ_i g_r,i      (local sums; the strategy reduces them).

With one process (w = 1, m_r = m) these are exactly BatchNorm's equations.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..io import register_module
from ..nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ..tensor import Tensor
from .comm import LocalCommunicator

__all__ = ["SyncBatchNorm", "convert_sync_batchnorm", "revert_sync_batchnorm", "sync_batch_norm"]


class SyncBatchNormTrain(Function):
    """Batch normalisation with statistics all-reduced over ``comm`` (training mode).

    Input x is (N_r, C, *); the statistics are per channel over the axes
    (0, 2, 3, ...) of every process's input. See the module docstring for the
    forward and backward equations.
    """

    def forward(
        self,
        x,
        weight=None,
        bias=None,
        comm=None,
        running_mean=None,
        running_var=None,
        factor=0.1,
        eps=1e-5,
        placeholder=False,
    ):
        channels = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, channels) + (1,) * (x.ndim - 2)
        # A placeholder input (the zero row of a process with an empty shard) takes part
        # in the collectives but adds nothing to the statistics.
        local_count = 0 if placeholder else x.size // channels
        totals = xp.zeros(channels + 1, dtype=xp.float64)
        if not placeholder:
            totals[:channels] = x.sum(axis=axes)
        totals[channels] = local_count
        comm.allreduce_sum(totals)
        count = round(totals[channels])
        if count <= 1:
            raise ValueError(
                f"SyncBatchNorm: expected more than 1 value per channel over all processes when "
                f"training, received {count}"
            )
        mean = (totals[:channels] / count).astype(x.dtype).reshape(shape)
        centred = x - mean
        squares = xp.ascontiguousarray((centred * centred).sum(axis=axes), dtype=xp.float64)
        if placeholder:
            squares[...] = 0
        comm.allreduce_sum(squares)
        var = (squares / count).astype(x.dtype).reshape(shape)
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = centred * inv_std
        self.axes, self.shape, self.x_hat, self.inv_std, self.weight = (
            axes,
            shape,
            x_hat,
            inv_std,
            weight,
        )
        self.comm, self.local_count, self.count = comm, local_count, count
        if running_mean is not None:
            running_mean *= 1 - factor
            running_mean += factor * mean.reshape(-1)
            running_var *= 1 - factor
            running_var += (factor * count / (count - 1)) * var.reshape(-1)
        y = x_hat if weight is None else x_hat * weight.reshape(shape)
        return y if bias is None else y + bias.reshape(shape)

    def backward(self, g):
        needs = self.needs_input_grad
        axes, x_hat = self.axes, self.x_hat
        gw = (g * x_hat).sum(axis=axes) if len(needs) > 1 and needs[1] else None
        gb = g.sum(axis=axes) if len(needs) > 2 and needs[2] else None
        gx = None
        if needs[0]:
            channels = x_hat.shape[1]
            g_hat = g if self.weight is None else g * self.weight.reshape(self.shape)
            share = self.local_count / self.count  # w_r = m_r / m
            sums = xp.empty(2 * channels, dtype=xp.float64)
            sums[:channels] = share * g_hat.sum(axis=axes)
            sums[channels:] = share * (g_hat * x_hat).sum(axis=axes)
            self.comm.allreduce_sum(sums)
            if self.local_count == 0:
                gx = xp.zeros_like(g)
            else:
                a = (sums[:channels] / self.local_count).astype(g.dtype).reshape(self.shape)
                b = (sums[channels:] / self.local_count).astype(g.dtype).reshape(self.shape)
                gx = self.inv_std * (g_hat - a - x_hat * b)
        return gx, gw, gb


def sync_batch_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    *,
    comm=None,
    momentum: float | None = 0.1,
    eps: float = 1e-5,
    num_batches_tracked=None,
    placeholder: bool = False,
) -> Tensor:
    """Training-mode batch normalisation with statistics over every process's batch.

    Parameters
    ----------
    input : Tensor (N_r, C, *)
        This process's shard of the global batch (N_r may be 0).
    running_mean, running_var : ndarray (C,) or None
        Moved in place towards the global statistics, as in :func:`chainrule.functional.batch_norm`.
    weight, bias : Tensor (C,) or None
    comm : communicator, optional
        :class:`~chainrule.distributed.comm.MPICommunicator` or any object with
        ``allreduce_sum``; None is a world of one process (plain BatchNorm).
    momentum, eps, num_batches_tracked
        As for :func:`chainrule.functional.batch_norm`.
    placeholder : bool
        The input is a stand-in row of a process whose shard is empty: it joins
        the all-reduces but adds nothing to the statistics or the gradients.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> x = cr.tensor(np.arange(12.0).reshape(4, 3), dtype=np.float64)
    >>> y = sync_batch_norm(x)          # one process: plain BatchNorm
    >>> bool(np.allclose(y.data.mean(axis=0), 0.0))
    True
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(
            f"sync_batch_norm: expected input of shape (N, C, ...), received shape {x.shape}"
        )
    if momentum is None:
        tracked = 1 if num_batches_tracked is None else int(num_batches_tracked)
        factor = 1.0 / max(tracked, 1)
    else:
        factor = float(momentum)
    return SyncBatchNormTrain.apply(
        x,
        weight,
        bias,
        comm=LocalCommunicator() if comm is None else comm,
        running_mean=running_mean,
        running_var=running_var,
        factor=factor,
        eps=eps,
        placeholder=placeholder,
    )


@register_module
class SyncBatchNorm(_BatchNorm):
    """BatchNorm over the global batch of a data-parallel job (PyTorch's ``nn.SyncBatchNorm``).

    In training mode the per-channel mean and biased variance are those of the
    batch formed by every process's shard (two all-reduces of C numbers in the
    forward pass, one of 2C in the backward), so N processes training on
    shards of a batch compute what one process computes on the whole batch.
    Evaluation uses the running statistics, which every process keeps equal.
    Input (N, C, *), any number of trailing axes. Parameters and buffers are
    BatchNorm's (``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked``), with the same names, so state dicts are interchangeable.

    ``comm`` is set by :class:`~chainrule.distributed.DataParallel` (or
    :func:`convert_sync_batchnorm`); without one the layer is a plain BatchNorm.

    Examples
    --------
    >>> import chainrule.nn as nn
    >>> model = convert_sync_batchnorm(nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)))
    >>> type(model[1]).__name__
    'SyncBatchNorm'
    """

    _ndims = (2, 3, 4, 5)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=None,
        generator=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, generator)
        self.comm = None
        self.empty_shard = False  # set by DataParallel.shard: the next input is a placeholder
        object.__setattr__(self, "replaced", None)  # the BatchNorm this layer stands in for

    def forward(self, input) -> Tensor:
        if not self.training and self.track_running_stats:
            return super().forward(input)
        reference = self.weight if self.affine else self.running_mean
        x = (
            input
            if isinstance(input, Tensor)
            else Tensor(input, dtype=None if reference is None else reference.dtype)
        )
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.num_features}, *), "
                f"received shape {tuple(x.shape)}"
            )
        update = self.training and self.track_running_stats
        if update:
            self.num_batches_tracked[...] += 1
        return sync_batch_norm(
            x,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            comm=self.comm,
            momentum=self.momentum,
            eps=self.eps,
            num_batches_tracked=self.num_batches_tracked,
            placeholder=self.empty_shard,
        )


def _replace_children(module, condition, replacement) -> None:
    """Swap every child for which ``condition`` holds, keeping the children's order."""
    for parent in list(module.modules()):
        for name, child in list(parent._modules.items()):
            if child is not None and condition(child):
                new = replacement(child)
                parent._modules[name] = new
                object.__setattr__(parent, name, new)


def convert_sync_batchnorm(module, comm=None):
    """Replace each BatchNorm1d/2d in ``module`` by a :class:`SyncBatchNorm` sharing its state.

    The new layers hold the same Parameter objects and buffer arrays, so an
    optimizer built on ``module.parameters()`` keeps working and training
    updates the original layers' state. :func:`revert_sync_batchnorm` puts the
    original layers back. Returns the converted module (a new object only
    when ``module`` itself is a BatchNorm).
    """

    def convert(bn):
        state = bn.weight if bn.affine else bn.running_mean
        sync = SyncBatchNorm(
            bn.num_features,
            bn.eps,
            bn.momentum,
            bn.affine,
            bn.track_running_stats,
            dtype=None if state is None else state.dtype,
        )
        if bn.affine:
            sync.weight, sync.bias = bn.weight, bn.bias
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            sync.register_buffer(name, getattr(bn, name))
        sync.train(bn.training)
        sync.comm = comm
        object.__setattr__(sync, "replaced", bn)  # a back reference, not a child module
        return sync

    def is_batchnorm(child):
        return isinstance(child, (BatchNorm1d, BatchNorm2d))

    if is_batchnorm(module):
        return convert(module)
    _replace_children(module, is_batchnorm, convert)
    return module


def revert_sync_batchnorm(module):
    """Undo :func:`convert_sync_batchnorm`: the original BatchNorm layers return, trained."""

    def original(sync):
        sync.replaced.train(sync.training)
        return sync.replaced

    def was_converted(child):
        return isinstance(child, SyncBatchNorm) and child.replaced is not None

    if was_converted(module):
        return original(module)
    _replace_children(module, was_converted, original)
    return module


def set_communicator(module, comm) -> None:
    """Point every SyncBatchNorm in ``module`` at ``comm``."""
    for layer in module.modules():
        if isinstance(layer, SyncBatchNorm):
            layer.comm = comm


def set_empty_shard(module, empty: bool) -> None:
    """Tell every SyncBatchNorm in ``module`` whether this process's next input is a placeholder."""
    for layer in module.modules():
        if isinstance(layer, SyncBatchNorm):
            layer.empty_shard = bool(empty)
