"""Optimizers, learning-rate schedules and gradient clipping (PyTorch's names and update rules).

Examples
--------
>>> import numpy as np, chainrule as cr, chainrule.nn as nn, chainrule.optim as optim
>>> model = nn.Linear(2, 1, generator=np.random.default_rng(0))
>>> opt = optim.Adam(model.parameters(), lr=0.01)
>>> loss = (model(np.ones((4, 2))) ** 2).mean()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .clip import clip_grad_norm_, clip_grad_value_
from .factory import OPTIMIZERS, get_lr, get_optimizer, set_lr
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_lr",
    "get_optimizer",
    "lr_scheduler",
    "set_lr",
]
