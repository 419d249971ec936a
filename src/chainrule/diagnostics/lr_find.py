"""The learning-rate range test (Smith, "Cyclical learning rates for training neural networks",
WACV 2017; popularised by fastai's ``lr_find``).

Train for a few hundred steps while the learning rate grows exponentially from ``start_lr``
to ``end_lr``, recording the loss of each step. The loss first barely moves (the rate is too
small), then falls fastest, then rises and explodes (too large). The sweep stops when the
smoothed loss exceeds ``diverge_threshold`` × its best value. Afterwards the model and the
optimizer are restored bit for bit, so the test costs nothing but time.

The suggestion is the rate where the smoothed loss falls fastest against log(lr) (the steepest
point before the minimum); ``min_lr / 10`` (fastai's older rule: a tenth of the rate at the
minimum) is reported too.

Examples
--------
>>> import numpy as np
>>> from chainrule import nn, optim
>>> from chainrule.diagnostics import lr_find
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(256, 4)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(np.int64)
>>> model = nn.Sequential(nn.Linear(4, 16, generator=0), nn.ReLU(), nn.Linear(16, 2, generator=1))
>>> result = lr_find(model, (X, y), loss="cross_entropy",
...                  optimizer=optim.SGD(model.parameters(), lr=0.1), generator=0)
>>> 1e-4 < result.suggestion < 10
True
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from .._validation import check_int, check_real
from ..backend import xp
from ..tensor import Tensor

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """What :func:`lr_find` measured.

    Attributes
    ----------
    lrs, losses, smoothed : list of float
        The learning rate of each step, its raw loss and the smoothed loss.
    suggestion : float
        The steepest-descent rate.
    min_lr : float
        The rate at the smallest smoothed loss.
    diverged : bool
        Whether the sweep stopped because the loss exploded (rather than reaching ``end_lr``).
    """

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)
    suggestion: float = math.nan
    min_lr: float = math.nan
    diverged: bool = False

    def plot(self, path, *, title: str = "Learning-rate range test"):
        """Save the loss against the learning rate (log scale) with the suggestion marked."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        ax.plot(self.lrs, self.losses, color="#bbbbbb", linewidth=1, label="loss per step")
        ax.plot(self.lrs, self.smoothed, color="#1f77b4", linewidth=2, label="smoothed loss")
        ax.axvline(
            self.suggestion,
            color="#d62728",
            linestyle="--",
            label=f"suggested lr = {self.suggestion:.2g}",
        )
        ax.axvline(
            self.min_lr, color="#2ca02c", linestyle=":", label=f"minimum at lr = {self.min_lr:.2g}"
        )
        ax.set_xscale("log")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:
            low, high = min(finite), max(finite[: max(1, len(finite) // 2)] + [finite[0]])
            ax.set_ylim(low - 0.1 * (high - low + 1e-12), high + 0.5 * (high - low + 1e-12))
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        ax.set_title(title)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path


def lr_find(
    model,
    data,
    *,
    loss,
    optimizer,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    batch_size: int = 32,
    smoothing: float = 0.98,
    diverge_threshold: float = 4.0,
    generator=None,
) -> LRFinderResult:
    """Run the learning-rate range test on ``model`` and restore it afterwards.

    Parameters
    ----------
    model : chainrule.nn.Module
    data : (X, y) pair of arrays
        Training data; batches of ``batch_size`` are drawn in a shuffled order, cycling when
        ``num_iter`` steps need more.
    loss : str or callable
        As for :func:`chainrule.train.fit`.
    optimizer : chainrule.optim.Optimizer
        The optimizer to test (its learning rate is overridden during the sweep, and restored).
    start_lr, end_lr : float
        The sweep's first and last learning rates; step i uses
        ``start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))``.
    num_iter : int
        The number of steps.
    smoothing : float
        Exponential smoothing β of the loss (with bias correction): s_i = β s_{i−1} + (1 − β) ℓ_i.
    diverge_threshold : float
        Stop when the smoothed loss exceeds this multiple of its best value.
    generator : numpy.random.Generator or int, optional
        The batches' order.
    """
    from ..optim import get_lr
    from ..train.losses import get_loss
    from ..train.step import train_step

    for name, value in (
        ("start_lr", start_lr),
        ("end_lr", end_lr),
        ("diverge_threshold", diverge_threshold),
    ):
        check_real("lr_find", name, value, low=0.0, low_open=True)
    if end_lr <= start_lr:
        raise ValueError(f"lr_find: end_lr ({end_lr}) must be larger than start_lr ({start_lr})")
    for name, value in (("num_iter", num_iter), ("batch_size", batch_size)):
        check_int("lr_find", name, value, low=2)
    check_real("lr_find", "smoothing", smoothing, low=0.0, high=1.0, high_open=True)
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"lr_find: data must be an (X, y) pair, received {type(data).__name__}")
    X, y = (d.data if isinstance(d, Tensor) else xp.asarray(d) for d in data)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"lr_find: X and y must hold the same number (> 0) of samples, received "
            f"{len(X)} and {len(y)}"
        )
    loss_fn = get_loss(loss)
    rng = (
        generator
        if isinstance(generator, xp.random.Generator)
        else xp.random.default_rng(generator)
    )
    dtype = next(iter(model.parameters())).dtype

    saved_model = copy.deepcopy(model.state_dict())
    saved_optimizer = copy.deepcopy(optimizer.state_dict())
    saved_lrs = [group["lr"] for group in optimizer.param_groups]
    saved_grads = [p.grad for p in model.parameters()]
    was_training = model.training
    base_lr = get_lr(optimizer)
    result = LRFinderResult()
    best = math.inf
    average = 0.0
    order = rng.permutation(len(X))
    cursor = 0
    model.train()
    try:
        for i in range(num_iter):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
            # every group keeps its ratio to the first group's rate (discriminative rates)
            for group, original in zip(optimizer.param_groups, saved_lrs, strict=False):
                group["lr"] = lr * (original / base_lr if base_lr else 1.0)
            if cursor + batch_size > len(order):
                order, cursor = rng.permutation(len(X)), 0
            index = order[cursor : cursor + batch_size]
            cursor += batch_size
            x = X[index]
            inputs = Tensor(x, dtype=dtype) if x.dtype.kind == "f" else Tensor(x)
            value = train_step(model, inputs, y[index], loss=loss_fn, optimizer=optimizer).loss
            average = smoothing * average + (1 - smoothing) * value
            smooth = average / (1 - smoothing ** (i + 1))
            result.lrs.append(lr)
            result.losses.append(value)
            result.smoothed.append(smooth)
            if not math.isfinite(smooth) or smooth > diverge_threshold * best:
                result.diverged = True
                break
            best = min(best, smooth)
    finally:
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        for group, original in zip(optimizer.param_groups, saved_lrs, strict=False):
            group["lr"] = original
        for p, grad in zip(model.parameters(), saved_grads, strict=False):
            p.grad = grad
        model.train(was_training)
    _suggest(result)
    return result


def _suggest(result: LRFinderResult) -> None:
    smoothed = [v if math.isfinite(v) else math.inf for v in result.smoothed]
    if len(smoothed) < 3:
        raise ValueError("lr_find: fewer than 3 steps before the loss diverged; lower start_lr")
    minimum = min(range(len(smoothed)), key=smoothed.__getitem__)
    result.min_lr = result.lrs[minimum]
    # steepest descent of the smoothed loss against log(lr), before the minimum
    stop = max(minimum, 2)
    logs = [math.log(lr) for lr in result.lrs[: stop + 1]]
    slopes = [
        (smoothed[k + 1] - smoothed[k - 1]) / (logs[k + 1] - logs[k - 1]) for k in range(1, stop)
    ]
    steepest = 1 + min(range(len(slopes)), key=slopes.__getitem__)
    result.suggestion = result.lrs[steepest]
