"""The one optimisation step: the only place that runs forward, backward and ``optimizer.step()``.

:func:`chainrule.train.fit`, the scikit-learn estimators and every later
feature call :func:`train_step`. In order, for one (local) batch::

    optimizer.zero_grad()
    output = model(inputs);  loss = loss_fn(output, targets);  loss.backward()
    strategy.reduce_gradients(parameters, local_size, global_size)
    callbacks.on_after_backward(batch, logs)          # gradients exactly as computed
    clip_grad_norm_(parameters, clip_grad_norm)       # when asked
    callbacks.on_before_optimizer_step(batch, logs)   # gradients the optimizer will use
    optimizer.step()

``logs`` holds ``loss`` (the batch's loss, before the update) and ``size``
(the local batch size); with clipping, ``grad_norm`` (the total norm before
clipping) is added before ``on_before_optimizer_step``.
"""

from __future__ import annotations

from typing import NamedTuple

from ..backend import is_float_dtype, xp
from ..optim.clip import clip_grad_norm_
from ..tensor import Tensor
from .strategy import SingleProcess

__all__ = ["StepResult", "input_tensor", "model_dtype", "train_step"]

_SINGLE = SingleProcess()


def model_dtype(model):
    """The float dtype of the model's first floating parameter (None when it has none)."""
    for param in model.parameters():
        if is_float_dtype(param.dtype):
            return param.dtype
    return None


def input_tensor(x, dtype):
    """Inputs as a Tensor in the model's float dtype (integer index arrays are kept as they are)."""
    needs_cast = is_float_dtype(x.dtype) or (x.dtype.kind in "bu" and x.ndim > 1)
    if dtype is not None and needs_cast and x.dtype != dtype:
        x = x.astype(dtype)
    return Tensor(x, dtype=x.dtype) if is_float_dtype(x.dtype) else Tensor(x)


class StepResult(NamedTuple):
    """What one step computed: the loss value (float), the loss Tensor and the model's output."""

    loss: float
    loss_tensor: Tensor
    output: Tensor


def _empty_shard_pass(model, inputs):
    """Forward and a zero loss on two zero rows, for a process whose shard of the batch is empty.

    A global batch smaller than the number of processes leaves some with no
    samples; they still run the model (whose SyncBatchNorm layers, told by the
    strategy, add nothing to the statistics) and backward, so they join the
    other processes' collectives instead of leaving them waiting, and the
    zero loss adds nothing to any gradient. Two rows, not one, so that a
    per-process BatchNorm in training mode has the two values it needs.
    """
    row = xp.zeros((2,) + tuple(inputs.shape[1:]), dtype=inputs.dtype)
    output = model(Tensor(row))
    return output, output.sum() * 0.0


def train_step(model, inputs, targets, *, loss, optimizer, batch: int = 0, callbacks=None,
               strategy=None, clip_grad_norm: float | None = None, parameters=None,
               global_size: int | None = None, logs: dict | None = None) -> StepResult:
    """Run one optimisation step of ``model`` on a batch and return its :class:`StepResult`.

    Parameters
    ----------
    model : chainrule.nn.Module
    inputs : Tensor or array
        This process's batch of inputs (already sharded and cast).
    targets : any
        Passed to ``loss`` as they are.
    loss : callable
        ``loss(output, targets) -> scalar Tensor``.
    optimizer : chainrule.optim.Optimizer
    batch : int
        The batch index within the epoch, passed to the hooks.
    callbacks : CallbackList or sequence of Callback, optional
        Receive ``on_after_backward`` and ``on_before_optimizer_step``.
    strategy : Strategy, optional
        Its ``reduce_gradients`` runs right after ``backward()`` (default: single process).
    clip_grad_norm : float, optional
        Clip the total gradient norm of ``parameters`` to this value.
    parameters : list of Parameter, optional
        The trained parameters (default: those of ``model`` with ``requires_grad``).
    global_size : int, optional
        The size of the global batch this local batch is part of (default: the local size).
    logs : dict, optional
        Extra entries for the hooks' logs.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> import chainrule.functional as F
    >>> model = nn.Linear(2, 1, generator=np.random.default_rng(0))
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> x, y = np.ones((4, 2)), np.zeros((4, 1))
    >>> first = train_step(model, x, y, loss=F.mse_loss, optimizer=opt)
    >>> second = train_step(model, x, y, loss=F.mse_loss, optimizer=opt)
    >>> second.loss < first.loss
    True
    """
    strategy = _SINGLE if strategy is None else strategy
    if parameters is None:
        parameters = [p for p in model.parameters() if p.requires_grad]
    if callbacks is not None and not hasattr(callbacks, "on_after_backward"):
        from .callbacks import CallbackList

        callbacks = CallbackList(callbacks)
    local_size = len(inputs)

    optimizer.zero_grad()
    if not isinstance(inputs, Tensor):
        inputs = input_tensor(xp.asarray(inputs), None)
    if local_size == 0:
        output, loss_tensor = _empty_shard_pass(model, inputs)
    else:
        output = model(inputs)
        loss_tensor = loss(output, targets)
    value = float(loss_tensor.item())
    loss_tensor.backward()
    strategy.reduce_gradients(parameters, local_size,
                              local_size if global_size is None else global_size)
    step_logs = {"loss": value, "size": local_size, **(logs or {})}
    if callbacks is not None:
        callbacks.on_after_backward(batch, step_logs)
    if clip_grad_norm is not None:
        step_logs["grad_norm"] = float(clip_grad_norm_(parameters, clip_grad_norm))
    if callbacks is not None:
        callbacks.on_before_optimizer_step(batch, step_logs)
    optimizer.step()
    return StepResult(value, loss_tensor, output)
