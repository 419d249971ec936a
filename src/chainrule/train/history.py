"""History: what :func:`chainrule.train.fit` measured, epoch by epoch.

History is itself a callback: the loop adds it to the run's callbacks, where
it runs after the others (``priority`` 100, with the other loggers), so a key
that any callback adds to ``logs`` in ``on_epoch_end`` is recorded.
"""

from __future__ import annotations

import csv
import math

from .callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Per-epoch logs of a training run, Keras style.

    Attributes
    ----------
    history : dict[str, list]
        One list per logged quantity, one entry per epoch: ``loss``, each
        metric (``accuracy``...), ``val_loss`` and ``val_<metric>`` when there
        is validation data, ``lr`` (the learning rate used in the epoch) and
        ``epoch_time`` (seconds).
    epoch : list[int]
        The epoch indices (0-based) that the lists refer to.

    Examples
    --------
    >>> h = History()
    >>> h.append(0, {"loss": 0.5, "lr": 0.01})
    >>> h.history["loss"], h.epoch
    ([0.5], [0])
    """

    priority = 100
    _is_history = True

    def __init__(self):
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.append(epoch, logs or {})

    def append(self, epoch: int, logs: dict) -> None:
        """Record the logs of one finished epoch (keys seen only later are padded with NaN)."""
        self.epoch.append(int(epoch))
        n = len(self.epoch)
        for key, value in logs.items():
            column = self.history.setdefault(key, [math.nan] * (n - 1))
            column.append(
                float(value) if isinstance(value, (int, float)) or hasattr(value, "item") else value
            )
        for column in self.history.values():
            if len(column) < n:
                column.append(math.nan)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.epoch)

    def keys(self):
        return self.history.keys()

    def last(self) -> dict:
        """The logs of the last recorded epoch (an empty dict before the first)."""
        if not self.epoch:
            return {}
        return {key: column[-1] for key, column in self.history.items()}

    def best(self, monitor: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """(epoch, value) of the best recorded ``monitor`` (``mode`` 'min' or 'max')."""
        if monitor not in self.history:
            raise KeyError(
                f"History.best: no {monitor!r} logged; logged keys are {sorted(self.history)}"
            )
        values = [
            (v, e)
            for e, v in zip(self.epoch, self.history[monitor], strict=True)
            if not math.isnan(v)
        ]
        if not values:
            raise ValueError(f"History.best: every {monitor!r} value is NaN")
        value, epoch = (min if mode == "min" else max)(values)
        return epoch, value

    def to_dict(self) -> dict:
        """A JSON-serialisable copy: ``{"epoch": [...], "history": {...}}``."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        history = cls()
        history.epoch = [int(e) for e in state.get("epoch", [])]
        history.history = {k: [float(x) for x in v] for k, v in state.get("history", {}).items()}
        return history

    def to_csv(self, path) -> None:
        """Write one row per epoch: ``epoch`` then every logged column."""
        keys = list(self.history)
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["epoch", *keys])
            for i, epoch in enumerate(self.epoch):
                writer.writerow([epoch, *(repr(float(self.history[k][i])) for k in keys)])

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
