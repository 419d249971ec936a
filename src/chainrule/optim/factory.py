"""One name table for optimizers, and reading/setting the learning rate of any optimizer.

:func:`get_optimizer` is what :func:`chainrule.train.fit`, the CLI and the
estimators use to turn a name into an optimizer; :func:`get_lr` and
:func:`set_lr` are what the callbacks and schedules use.

Examples
--------
>>> import numpy as np, chainrule.nn as nn
>>> model = nn.Linear(3, 1, generator=np.random.default_rng(0))
>>> opt = get_optimizer("adam", model.parameters(), lr=0.01)
>>> type(opt).__name__, get_lr(opt)
('Adam', 0.01)
>>> set_lr(opt, 0.5); get_lr(opt)
0.5
"""

from __future__ import annotations

import math

from .._validation import check_real
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["OPTIMIZERS", "get_lr", "get_optimizer", "set_lr"]

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": NAdam,
    "radam": RAdam,
}
"""Lower-case names accepted by :func:`get_optimizer` (register a new optimizer with one line)."""


def get_optimizer(name, params, **kwargs) -> Optimizer:
    """An optimizer over ``params`` from its name (case-insensitive), or ``name`` itself.

    Parameters
    ----------
    name : str or Optimizer
        A key of :data:`OPTIMIZERS` ('sgd', 'adam', 'adamw', 'rmsprop',
        'adagrad', 'adadelta', 'adamax', 'nadam', 'radam'; not LBFGS, whose step
        needs a closure the training loop does not pass); an Optimizer
        instance is returned unchanged (then no
        ``kwargs`` may be given).
    params : iterable of Parameters or of parameter-group dicts
    **kwargs
        The optimizer's own arguments (``lr``, ``momentum``, ``betas``, ...).
    """
    if isinstance(name, Optimizer):
        if kwargs:
            raise ValueError(f"get_optimizer: received an optimizer instance and the arguments "
                             f"{sorted(kwargs)}; pass the arguments when building it")
        return name
    if not isinstance(name, str):
        raise TypeError(f"get_optimizer: expected an optimizer name or an Optimizer, "
                        f"received {type(name).__name__}")
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"get_optimizer: unknown optimizer {name!r}; expected one of "
                         f"{', '.join(sorted(OPTIMIZERS))}")
    return OPTIMIZERS[key](params, **kwargs)


def get_lr(optimizer) -> float:
    """The learning rate of the optimizer's first parameter group (NaN when it has none)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return float(groups[0]["lr"])
    lr = getattr(optimizer, "lr", None)
    return float(lr) if lr is not None else math.nan


def set_lr(optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group to ``lr`` (a finite number >= 0)."""
    lr = check_real("set_lr", "lr", lr, low=0.0)
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for group in groups:
            group["lr"] = lr
    elif hasattr(optimizer, "lr"):
        optimizer.lr = lr
    else:
        raise TypeError(f"set_lr: {type(optimizer).__name__} has neither param_groups nor lr")
