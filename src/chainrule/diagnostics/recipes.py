"""Two checks from Karpathy's "A recipe for training neural networks" (2019), as functions.

- :func:`check_initial_loss`: at initialisation a K-class classifier should be unsure of every
  class, so its cross-entropy should be close to ln K (≈ 2.30 for 10 classes). Far above means
  over-confident random outputs (initial weights too large, a bad last-layer bias); far below
  on real data usually means a label leak.
- :func:`overfit_one_batch`: a network that cannot drive the loss on a single small batch to
  nearly zero has a bug (a frozen or disconnected layer, wrong targets, a learning rate far
  off) that more data will not fix.

Each returns a :class:`Verdict` whose ``ok`` says whether the check passed and whose
``message`` says so in a sentence, with the numbers and a remedy.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from .._validation import check_int
from ..autograd import no_grad
from ..backend import xp
from ..tensor import Tensor

__all__ = ["Verdict", "check_initial_loss", "overfit_one_batch"]


@dataclass
class Verdict:
    """The outcome of a check: ``ok``, a plain-language ``message`` and the ``value`` measured."""

    ok: bool
    message: str
    value: float
    expected: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return ("OK: " if self.ok else "WARNING: ") + self.message


def _arrays(data, name):
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"{name}: data must be an (X, y) pair, received {type(data).__name__}")
    X, y = (d.data if isinstance(d, Tensor) else xp.asarray(d) for d in data)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(
            f"{name}: X and y must hold the same number (> 0) of samples, received "
            f"{len(X)} and {len(y)}"
        )
    return X, y


def _inputs(model, x):
    dtype = next(iter(model.parameters())).dtype
    return Tensor(x, dtype=dtype) if x.dtype.kind == "f" else Tensor(x)


def check_initial_loss(
    model,
    data,
    *,
    loss="cross_entropy",
    num_classes: int | None = None,
    tolerance: float = 0.25,
    max_samples: int = 1024,
) -> Verdict:
    """Compare the untrained model's loss with its expected value (ln K for K classes).

    Parameters
    ----------
    model : Module
    data : (X, y) pair
    loss : str or callable
        ``'cross_entropy'`` (expected ln K) or ``'mse'`` (expected mean(y²), the loss of
        predicting zeros, since a well-initialised network starts with small outputs).
    num_classes : int, optional
        K; by default the number of model outputs.
    tolerance : float
        Relative tolerance: OK when |loss − expected| ≤ tolerance · expected.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule import nn
    >>> from chainrule.diagnostics import check_initial_loss
    >>> X = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    >>> y = np.arange(200) % 10
    >>> model = nn.Sequential(nn.Linear(8, 32, generator=0), nn.ReLU(),
    ...                       nn.Linear(32, 10, generator=1))
    >>> print(check_initial_loss(model, (X, y)).ok)
    True
    """
    from ..train.losses import get_loss

    X, y = _arrays(data, "check_initial_loss")
    X, y = X[:max_samples], y[:max_samples]
    was_training = model.training
    model.eval()
    with no_grad():
        output = model(_inputs(model, X))
        value = float(get_loss(loss)(output, y).item())
    model.train(was_training)
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")
    if name in ("cross_entropy", "ce", "nll"):
        k = num_classes or (output.shape[1] if output.ndim == 2 else 2)
        expected = math.log(k)
        what = f"ln {k} = {expected:.3f} (uniform predictions over {k} classes)"
    else:
        expected = float(xp.mean(xp.square(y.astype(xp.float64))))
        what = f"mean(y²) = {expected:.3g} (the loss of predicting zeros)"
    if not math.isfinite(value):
        return Verdict(
            False,
            f"the initial loss is {value}: the network overflows before any "
            "training; check the input scale and the initialisation",
            value,
            expected,
        )
    ok = abs(value - expected) <= tolerance * expected
    if ok:
        message = f"initial loss {value:.3f} is close to the expected {what}"
    elif value > expected:
        message = (
            f"initial loss {value:.3f} is far above the expected {what}: the untrained "
            "network is over-confident. Use a standard initialisation (Xavier/He), "
            "standardise the inputs, or set the last layer's bias to zero"
        )
    else:
        message = (
            f"initial loss {value:.3f} is far below the expected {what}: an untrained "
            "network should not do this well; check for a label leak in the inputs"
        )
    return Verdict(ok, message, value, expected)


def overfit_one_batch(
    model,
    batch,
    *,
    loss="cross_entropy",
    optimizer=None,
    steps: int = 200,
    lr: float = 1e-2,
    target: float = 0.05,
    restore: bool = True,
) -> Verdict:
    """Train on one small batch only and check the loss goes to nearly zero.

    Parameters
    ----------
    model : Module
    batch : (X, y) pair
        A small batch (say 8–32 samples).
    optimizer : Optimizer, optional
        Default: Adam with ``lr`` on the model's trainable parameters.
    steps : int
        Optimisation steps.
    target : float
        OK when the final loss is below ``target`` × the initial loss.
    restore : bool
        Put the model's weights back afterwards (default), so the check leaves no trace.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule import nn
    >>> from chainrule.diagnostics import overfit_one_batch
    >>> X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    >>> y = np.arange(16) % 3
    >>> model = nn.Sequential(nn.Linear(4, 32, generator=0), nn.Tanh(),
    ...                       nn.Linear(32, 3, generator=1))
    >>> overfit_one_batch(model, (X, y)).ok
    True
    """
    from .. import optim
    from ..train.losses import get_loss
    from ..train.step import train_step

    check_int("overfit_one_batch", "steps", steps, low=1)
    X, y = _arrays(batch, "overfit_one_batch")
    loss_fn = get_loss(loss)
    saved = copy.deepcopy(model.state_dict()) if restore else None
    if optimizer is None:
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise ValueError(
                "overfit_one_batch: the model has no trainable parameters (all frozen?)"
            )
        optimizer = optim.Adam(trainable, lr=lr)
    inputs = _inputs(model, X)
    was_training = model.training
    model.train()
    try:
        first = last = train_step(model, inputs, y, loss=loss_fn, optimizer=optimizer).loss
        for _ in range(steps - 1):
            last = train_step(model, inputs, y, loss=loss_fn, optimizer=optimizer).loss
        model.eval()
        with no_grad():
            final = float(loss_fn(model(inputs), y).item())
    finally:
        model.train(was_training)
        if saved is not None:
            model.load_state_dict(saved)
    del last
    if not math.isfinite(final):
        return Verdict(
            False,
            f"the loss became {final} while overfitting one batch: lower the "
            f"learning rate (now {lr:g})",
            final,
            0.0,
        )
    ok = final <= target * first
    if ok:
        message = (
            f"the loss on one batch of {len(X)} fell from {first:.3g} to {final:.3g} in "
            f"{steps} steps: the network can learn"
        )
    else:
        message = (
            f"the loss on one batch of {len(X)} only fell from {first:.3g} to {final:.3g} "
            f"in {steps} steps (wanted below {target:g} × the start): look for a frozen or "
            "disconnected layer, targets that do not match the outputs, or a learning rate "
            "far off; a network that cannot memorise 16 samples will not learn 16,000"
        )
    return Verdict(ok, message, final, 0.0)
