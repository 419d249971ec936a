"""Training: :func:`fit`, :func:`evaluate`, :func:`predict`, callbacks, metrics and :class:`History`.

Examples
--------
>>> from chainrule.train import fit, EarlyStopping, CSVLogger     # doctest: +SKIP
>>> history = fit(model, (X, y), loss="cross_entropy", optimizer=opt, epochs=20,
...               validation_split=0.1, metrics=["accuracy"],
...               callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
>>> history.history["val_accuracy"][-1]
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
from .fit import LOSSES, Trainer, evaluate, fit, get_loss, predict
from .history import History

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
    "TerminateOnNaN",
    "Trainer",
    "evaluate",
    "fit",
    "get_loss",
    "metrics",
    "predict",
]
