"""Training: :func:`fit`, :func:`evaluate`, :func:`predict`, callbacks, metrics, :class:`History`.

The seams later features plug into: :func:`train_step` (the one optimisation
step), :class:`Strategy` / :class:`SingleProcess` (how training spreads over
processes) and the callback hooks (see ``docs/design.md``).

Examples
--------
>>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
>>> from chainrule.train import fit, EarlyStopping
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 3)); y = (X.sum(axis=1) > 0).astype(int)
>>> model = nn.Sequential(nn.Linear(3, 8, generator=rng), nn.ReLU(), nn.Linear(8, 2, generator=rng))
>>> opt = optim.Adam(model.parameters(), lr=0.02)
>>> history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=20,
...               validation_split=0.25, metrics=["accuracy"], generator=0, verbose=0,
...               callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
>>> history.history["val_accuracy"][-1] > 0.8
True
"""

from . import metrics
from .callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .fit import evaluate, fit, predict
from .history import History
from .loop import Trainer, run_epochs
from .losses import LOSSES, get_loss
from .online import progressive_score
from .step import StepResult, train_step
from .strategy import SingleProcess, Strategy

__all__ = [
    "LOSSES",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "SingleProcess",
    "StepResult",
    "Strategy",
    "TerminateOnNaN",
    "Trainer",
    "evaluate",
    "fit",
    "get_loss",
    "metrics",
    "predict",
    "progressive_score",
    "run_epochs",
    "train_step",
]
