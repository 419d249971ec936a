"""Callbacks: small state machines that the training loop calls at fixed points.

A callback overrides any of the empty hooks below. ``logs`` is a dict of the
numbers measured so far (``loss``, metrics, ``val_*``, ``lr``, ``epoch_time``).
During training ``self.trainer`` is the shared :class:`~chainrule.train.loop.Trainer`;
``self.model``, ``self.optimizer``, ``self.strategy`` and ``self.lr`` (the current
learning rate) are shortcuts; setting ``self.stop_training = True`` ends
training after the current batch.

Hooks, in order (see ``docs/design.md`` for the full picture)::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_batch_begin(batch, logs)
          on_after_backward(batch, logs)          gradients as computed (before clipping)
          on_before_optimizer_step(batch, logs)   gradients after clipping, before the update
        on_batch_end(batch, logs)
        on_validation_end(epoch, logs)            after validation, when there is validation data
      on_epoch_end(epoch, logs)
    on_train_end(logs)

Callbacks run in the order given, except that loggers (:class:`History`,
:class:`CSVLogger`) run after the others, so a key another callback adds to
``logs`` reaches them, and checkpoint writers (:class:`ModelCheckpoint`) run
last of all, so they save what everything else recorded.
"""

from __future__ import annotations

import csv
import math
import os
import warnings

from .._monitor import BestMonitor, resolve_mode
from .._validation import check_int, check_real
from ..optim.factory import get_lr, set_lr

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "get_lr",
    "set_lr",
]


class Callback:
    """Base class: every hook does nothing. Override the ones you need."""

    trainer = None
    priority = 0
    """Callbacks run in increasing priority (stable): 0 for most, 100 for loggers, 200 for
    checkpoint writers, so loggers see every key the others add and checkpoints see the logs."""

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    @property
    def model(self):
        return None if self.trainer is None else self.trainer.model

    @property
    def optimizer(self):
        return None if self.trainer is None else self.trainer.optimizer

    @property
    def strategy(self):
        """The run's :class:`~chainrule.train.Strategy` (None outside training)."""
        return None if self.trainer is None else self.trainer.strategy

    @property
    def is_main(self) -> bool:
        """Whether this process prints and writes files (True outside training)."""
        return self.strategy is None or self.strategy.is_main

    @property
    def lr(self) -> float:
        """The current learning rate (of the first parameter group); NaN outside training."""
        return math.nan if self.optimizer is None else get_lr(self.optimizer)

    @property
    def stop_training(self) -> bool:
        return bool(self.trainer is not None and self.trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        if self.trainer is None:
            raise RuntimeError(f"{type(self).__name__}: stop_training can only be set during fit()")
        self.trainer.stop_training = bool(value)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_after_backward(self, batch, logs=None):
        """After ``backward()`` (and the strategy's gradient reduction), before clipping."""

    def on_before_optimizer_step(self, batch, logs=None):
        """After gradient clipping, right before ``optimizer.step()``."""

    def on_validation_end(self, epoch, logs=None):
        """After the epoch's validation pass; ``logs`` holds the ``val_*`` entries."""

    def state_dict(self) -> dict:
        """JSON-able state saved in checkpoints so a resumed run continues where it stopped."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
          "on_batch_end", "on_after_backward", "on_before_optimizer_step", "on_validation_end")


class CallbackList:
    """Calls each hook on every callback, in increasing ``priority`` (stable)."""

    def __init__(self, callbacks=()):
        callbacks = list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"fit: callbacks must be Callback instances, received {type(cb).__name__}"
                )
        self.callbacks = sorted(callbacks, key=lambda cb: cb.priority)
        # a hook only calls the callbacks that override it (batch hooks run every step)
        self._overriding = {
            hook: [cb for cb in self.callbacks
                   if getattr(type(cb), hook) is not getattr(Callback, hook)]
            for hook in _HOOKS
        }

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def set_trainer(self, trainer):
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def _call(self, hook, *args):
        for cb in self._overriding[hook]:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs)

    def on_after_backward(self, batch, logs=None):
        self._call("on_after_backward", batch, logs)

    def on_before_optimizer_step(self, batch, logs=None):
        self._call("on_before_optimizer_step", batch, logs)

    def on_validation_end(self, epoch, logs=None):
        self._call("on_validation_end", epoch, logs)

    def _keyed(self):
        kept = [cb for cb in self.callbacks if not getattr(cb, "_is_history", False)]
        return [(f"{i}:{type(cb).__name__}", cb) for i, cb in enumerate(kept)]

    def keys(self):
        """Stable keys for checkpointed states: ``<index>:<ClassName>`` (History excluded)."""
        return [key for key, _ in self._keyed()]

    def state_dict(self) -> dict:
        return {key: cb.state_dict() for key, cb in self._keyed()}

    def load_state_dict(self, state: dict) -> None:
        for key, cb in self._keyed():
            if key in state:
                cb.load_state_dict(state[key])


def _monitored(logs, monitor, owner):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{owner}: the monitored quantity {monitor!r} is not logged (available: "
            f"{sorted(logs or {})}); pass validation data or choose another monitor",
            RuntimeWarning, stacklevel=3,
        )
        return None
    return float(value)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A logged quantity, e.g. ``'val_loss'`` (default) or ``'val_accuracy'``.
    min_delta : float
        The smallest change that counts as an improvement.
    patience : int
        Epochs without improvement before stopping.
    mode : {'auto', 'min', 'max'}
        'auto' maximises names containing 'acc' or 'r2' and minimises the rest.
    baseline : float, optional
        Training stops if the monitor does not beat this value within ``patience`` epochs.
    restore_best_weights : bool
        At the end of training, load the weights of the best epoch.
    verbose : int
        1: say (as Keras does) at which epoch training stopped and which epoch's
        weights were restored.

    Attributes
    ----------
    best, best_epoch, stopped_epoch, wait

    Examples
    --------
    >>> stop = EarlyStopping(monitor="val_accuracy", patience=3, restore_best_weights=True)
    >>> stop.monitor_tracker.mode
    'max'
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        verbose: int = 0,
    ):
        self.patience = check_int("EarlyStopping", "patience", patience, low=0)
        self.monitor_tracker = BestMonitor(
            "EarlyStopping", resolve_mode(mode, monitor, "EarlyStopping"),
            check_real("EarlyStopping", "min_delta", min_delta, low=0.0), baseline=baseline,
        )
        self.monitor = monitor
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.best_epoch = -1
        self.stopped_epoch = -1
        self.best_weights = None
        self.restored_epoch = -1

    @property
    def best(self) -> float:
        return self.monitor_tracker.best

    @property
    def wait(self) -> int:
        return self.monitor_tracker.wait

    def on_train_begin(self, logs=None):
        self.restored_epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None:
            return
        if self.monitor_tracker.update(value):
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = {k: v.copy() for k, v in self.model.state_dict().items()}
            return
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, logs=None):
        speak = self.verbose and self.is_main
        if self.stopped_epoch >= 0 and speak:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping ({self.monitor} did not improve "
                  f"for {self.wait} epochs; best {self.best:.6g} at epoch {self.best_epoch + 1})")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
            self.restored_epoch = self.best_epoch
            if speak:
                print(
                    "Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )

    def state_dict(self) -> dict:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.monitor_tracker.wait = int(state.get("wait", 0))
        self.monitor_tracker.best = float(state.get("best", self.monitor_tracker.best))
        self.best_epoch = int(state.get("best_epoch", -1))
        self.stopped_epoch = int(state.get("stopped_epoch", -1))


class ModelCheckpoint(Callback):
    """Write a training checkpoint (model, optimizer, epoch, RNG states) at the end of epochs.

    Parameters
    ----------
    path : str
        The checkpoint file; may use ``{epoch}`` and logged names as format
        fields (``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``); ``epoch``
        is 1-based there (the number of finished epochs).
    monitor : str
        The quantity compared when ``save_best_only``.
    save_best_only : bool
        Write only when ``monitor`` improves.
    mode : {'auto', 'min', 'max'}

    Notes
    -----
    The file is written atomically by :func:`chainrule.io.save_checkpoint` and
    resumes with ``fit(..., resume_from=path)``. Only the main process writes.
    """

    priority = 200

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0):
        self.path = os.fspath(path)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.monitor_tracker = BestMonitor("ModelCheckpoint",
                                           resolve_mode(mode, monitor, "ModelCheckpoint"))
        self.verbose = verbose
        self.last_path = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or not self.monitor_tracker.update(value):
                return
        try:
            path = self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"ModelCheckpoint: cannot format path {self.path!r} with the logs: "
                             f"{error}") from None
        if not self.is_main:
            return
        self.last_path = self.trainer.save_checkpoint(path)
        if self.verbose:
            print(f"ModelCheckpoint: saved {self.last_path}")

    def state_dict(self) -> dict:
        return {"best": self.monitor_tracker.best}

    def load_state_dict(self, state: dict) -> None:
        self.monitor_tracker.best = float(state.get("best", self.monitor_tracker.best))


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite, and say where it came from.

    With ``fit(..., detect_anomaly=True)`` the warning (and :attr:`report`) names the module,
    the op, forward or backward, and the batch where the first non-finite value appeared;
    without it, the warning says how to find out.

    Attributes
    ----------
    terminated_batch : int or None
    report : str or None
        The warning's text.
    """

    def __init__(self):
        self.terminated_batch = None
        self.report = None

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.terminated_batch = batch
            self.stop_training = True
            origin = logs.get("anomaly")
            self.report = (f"TerminateOnNaN: batch {batch} has loss {loss}; stopping training; "
                           + (f"first non-finite value: {origin}" if origin else
                              "run fit(..., detect_anomaly=True) to find the module and op "
                              "that produced it"))
            warnings.warn(self.report, RuntimeWarning, stacklevel=2)


def _is_scheduler(obj) -> bool:
    return hasattr(obj, "step") and hasattr(obj, "state_dict") and not isinstance(obj, type)


class LearningRateScheduler(Callback):
    """Change the learning rate every epoch.

    Parameters
    ----------
    schedule : callable or lr scheduler
        Either ``fn(epoch, lr) -> new_lr``, called before each epoch (epoch
        0-based), or a :mod:`chainrule.optim.lr_scheduler` object, whose
        ``step()`` is called after each epoch (``ReduceLROnPlateau`` gets
        ``logs[monitor]``).
    monitor : str
        Passed to a plateau scheduler's ``step``; ``val_loss`` falls back to ``loss``.
    """

    def __init__(self, schedule, monitor: str = "val_loss", verbose: int = 0):
        if not (callable(schedule) or _is_scheduler(schedule)):
            raise TypeError(
                "LearningRateScheduler: schedule must be fn(epoch, lr) -> lr or an lr_scheduler "
                f"object, received {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.monitor = monitor
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        if _is_scheduler(self.schedule):
            return
        lr = self.schedule(epoch, get_lr(self.optimizer))
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr):
            raise ValueError(
                f"LearningRateScheduler: schedule({epoch}, lr) must return a finite float, "
                f"received {lr!r}"
            )
        set_lr(self.optimizer, lr)
        if self.verbose and self.is_main:
            print(f"LearningRateScheduler: epoch {epoch + 1} lr = {lr:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if not _is_scheduler(self.schedule):
            return
        if type(self.schedule).__name__ == "ReduceLROnPlateau":
            logs = logs or {}
            key = self.monitor if self.monitor in logs else "loss"
            self.schedule.step(float(logs[key]))
        else:
            self.schedule.step()

    def state_dict(self) -> dict:
        if _is_scheduler(self.schedule):
            return {"scheduler": self.schedule.state_dict()}
        return {}

    def load_state_dict(self, state: dict) -> None:
        if _is_scheduler(self.schedule) and "scheduler" in state:
            self.schedule.load_state_dict(state["scheduler"])


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    A callback around :class:`chainrule.optim.lr_scheduler.ReduceLROnPlateau`,
    with Keras' argument names (``min_delta`` is the scheduler's relative
    ``threshold``).

    Parameters
    ----------
    monitor : str
    factor : float
        New lr = lr · factor, 0 < factor < 1.
    patience : int
        Epochs without improvement before reducing.
    mode : {'auto', 'min', 'max'}
    min_delta : float
    cooldown : int
    min_lr : float
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        verbose: int = 0,
    ):
        check_real("ReduceLROnPlateau", "factor", factor, low=0.0, high=1.0, low_open=True,
                   high_open=True)
        self.monitor = monitor
        self.mode = resolve_mode(mode, monitor, "ReduceLROnPlateau")
        self.factor = factor
        self.patience = patience
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.verbose = verbose
        self.scheduler = None
        self._pending_state = None

    def on_train_begin(self, logs=None):
        from ..optim import lr_scheduler

        self.scheduler = lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode=self.mode, factor=self.factor, patience=self.patience,
            threshold=self.min_delta, cooldown=self.cooldown, min_lr=self.min_lr,
        )
        if self._pending_state is not None:
            self.scheduler.load_state_dict(self._pending_state)
            self._pending_state = None

    def on_epoch_end(self, epoch, logs=None):
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if value is None:
            return
        before = get_lr(self.optimizer)
        self.scheduler.step(value)
        after = get_lr(self.optimizer)
        if self.verbose and after < before and self.is_main:
            print(f"ReduceLROnPlateau: epoch {epoch + 1}: lr {before:.6g} -> {after:.6g}")

    def state_dict(self) -> dict:
        return {} if self.scheduler is None else {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if "scheduler" in state:
            if self.scheduler is None:
                self._pending_state = state["scheduler"]
            else:
                self.scheduler.load_state_dict(state["scheduler"])


class CSVLogger(Callback):
    """Append one CSV row per epoch (``epoch`` then every logged value) to ``path``.

    Each row is flushed when written, so the file can be followed during
    training. With ``append=False`` the file is rewritten when training
    starts, except when a run resumes from a checkpoint, which appends.
    """

    priority = 100

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self._handle = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        if not self.is_main:
            return
        resuming = self.trainer is not None and self.trainer.initial_epoch > 0
        append = (
            (self.append or resuming)
            and os.path.isfile(self.path)
            and os.path.getsize(self.path) > 0
        )
        if append:
            with open(self.path, newline="") as handle:
                rows = list(csv.reader(handle, delimiter=self.separator))
            header = rows[0] if rows else None
            self._keys = header[1:] if header else None
            if resuming:  # rows of epochs after the checkpoint's (written before it committed)
                kept = [
                    r
                    for r in rows[1:]
                    if r and r[0].isdigit() and int(r[0]) < self.trainer.initial_epoch
                ]
                if len(kept) != len(rows) - 1:
                    with open(self.path, "w", newline="") as handle:
                        csv.writer(handle, delimiter=self.separator).writerows([header, *kept])
        else:
            self._keys = None
        # noqa: SIM115 - closed in on_train_end
        self._handle = open(self.path, "a" if append else "w", newline="")
        self._writer = csv.writer(self._handle, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._writer is None:
            return
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(self._format(logs.get(k, math.nan)) for k in self._keys)])
        self._handle.flush()

    @staticmethod
    def _format(value):
        return repr(float(value)) if isinstance(value, (int, float)) else value

    def on_train_end(self, logs=None):
        if self._handle is not None:
            self._handle.close()
            self._handle = self._writer = None
