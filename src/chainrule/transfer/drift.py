"""Concept-drift detection for online learning: ADWIN, and a callback that acts on a drift.

ADWIN (ADaptive WINdowing; Bifet and Gavaldà, "Learning from time-changing data with adaptive
windowing", SIAM SDM 2007) keeps a window of the most recent values of a stream (a per-sample
loss, an error indicator) and drops its older part whenever the window can be cut into an old
part W₀ and a recent part W₁ whose means differ by more than chance allows:

    |μ̂(W₀) − μ̂(W₁)| > ε_cut,   ε_cut = sqrt(2 · m⁻¹ · σ²_W · δ') + (2/3) · δ' · m⁻¹,

with δ' = ln(2 ln|W| / δ), m⁻¹ = 1/(n₀ − ℓ + 1) + 1/(n₁ − ℓ + 1) (ℓ is the minimum length of
a sub-window) and σ²_W the variance of the whole window. The window is stored compressed as an
exponential histogram: row i holds up to ``max_buckets`` buckets of 2ⁱ values each (their sum
and variance), so memory and time per value are O(log |W|). Cuts are checked every ``clock``
values. These are the choices of river's ``drift.ADWIN`` (delta=0.002, clock=32,
max_buckets=5, minimum sub-window 5, grace period 10), and the tests reproduce river's
published detection indices on its seeded streams.

Examples
--------
>>> import numpy as np
>>> from chainrule.transfer import ADWIN
>>> stream = np.concatenate([np.zeros(500), np.ones(500)])
>>> detector = ADWIN()
>>> [i for i, value in enumerate(stream) if detector.update(value)]
[543]
"""

from __future__ import annotations

import math

from ..train.callbacks import Callback

__all__ = ["ADWIN", "DriftCallback"]


class _Row:
    """The buckets of one size 2ⁱ, oldest first: each holds the sum and the variance term."""

    __slots__ = ("totals", "variances")

    def __init__(self):
        self.totals: list[float] = []
        self.variances: list[float] = []


class ADWIN:
    """Adaptive-windowing drift detector for a stream of numbers.

    Parameters
    ----------
    delta : float
        Confidence δ in (0, 1): the smaller, the fewer false alarms and the later a detection.
    clock : int
        Check for a cut every ``clock`` values.
    max_buckets : int
        Buckets kept per row of the histogram before the two oldest merge.
    min_window_length : int
        Minimum length ℓ of each sub-window of a cut.
    grace_period : int
        No cut is checked while the window holds fewer values.
    reset_on_drift : bool
        Start from an empty window after a detection (river's behaviour since 0.11). With False
        the window keeps its recent part W₁ and can report several detections in a row.

    Attributes
    ----------
    width : int
        Number of values in the window.
    estimation : float
        Mean of the window.
    drift_detected : bool
        Whether the last :meth:`update` detected a drift.
    n_detections : int
    """

    def __init__(
        self,
        delta: float = 0.002,
        *,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
        reset_on_drift: bool = True,
    ):
        if not (isinstance(delta, (int, float)) and 0.0 < delta < 1.0):
            raise ValueError(f"ADWIN: delta must be a number in (0, 1), received {delta!r}")
        for name, value in (
            ("clock", clock),
            ("max_buckets", max_buckets),
            ("min_window_length", min_window_length),
            ("grace_period", grace_period),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ADWIN: {name} must be a positive int, received {value!r}")
        self.delta = float(delta)
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        self.reset_on_drift = bool(reset_on_drift)
        self.n_detections = 0
        self.drift_detected = False
        self._clear()

    def _clear(self) -> None:
        self._rows: list[_Row] = [_Row()]  # row i: buckets of 2**i values
        self._width = 0
        self._total = 0.0
        self._variance = 0.0  # sum of squared deviations from the window's mean
        self._tick = 0

    # ------------------------------------------------------------------ state
    @property
    def width(self) -> int:
        return self._width

    @property
    def estimation(self) -> float:
        return self._total / self._width if self._width else 0.0

    @property
    def variance(self) -> float:
        """Variance of the values in the window."""
        return self._variance / self._width if self._width else 0.0

    # ------------------------------------------------------------------ update
    def update(self, value: float) -> bool:
        """Add one value; return True when this value revealed a drift."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"ADWIN.update: expected a finite number, received {value!r}")
        if self.drift_detected and self.reset_on_drift:
            self._clear()
        self._insert(value)
        self.drift_detected = self._check_cuts()
        if self.drift_detected:
            self.n_detections += 1
        return self.drift_detected

    def _insert(self, value: float) -> None:
        # Welford's update of the window's sum of squared deviations.
        if self._width > 0:
            mean_before = self._total / self._width
            self._variance += self._width * (value - mean_before) ** 2 / (self._width + 1)
        self._width += 1
        self._total += value
        newest = self._rows[0]
        newest.totals.append(value)
        newest.variances.append(0.0)
        self._merge_full_rows()

    def _merge_full_rows(self) -> None:
        """A row with max_buckets + 1 buckets merges its two oldest into one of the next row."""
        for i, row in enumerate(self._rows):
            if len(row.totals) <= self.max_buckets:
                return
            if i + 1 == len(self._rows):
                self._rows.append(_Row())
            size = 2.0**i
            t1, t2 = row.totals[0], row.totals[1]
            # Variance of two merged groups: v1 + v2 + n1·n2·(μ1 − μ2)²/(n1 + n2), n1 = n2.
            merged_variance = (
                row.variances[0]
                + row.variances[1]
                + size * size * (t1 / size - t2 / size) ** 2 / (2 * size)
            )
            self._rows[i + 1].totals.append(t1 + t2)
            self._rows[i + 1].variances.append(merged_variance)
            del row.totals[:2], row.variances[:2]

    def _drop_oldest_bucket(self) -> float:
        """Remove the oldest bucket from the window; return how many values it held."""
        i = len(self._rows) - 1
        row = self._rows[i]
        size = 2.0**i
        total, variance = row.totals.pop(0), row.variances.pop(0)
        self._width -= int(size)
        self._total -= total
        mean_rest = self._total / self._width
        self._variance -= variance + size * self._width * (total / size - mean_rest) ** 2 / (
            size + self._width
        )
        if not row.totals:
            self._rows.pop()
        return size

    def _cut_is_significant(self, n0: float, n1: float, mean_gap: float) -> bool:
        delta_prime = math.log(2.0 * math.log(self._width) / self.delta)
        m_inverse = 1.0 / (n0 - self.min_window_length + 1) + 1.0 / (
            n1 - self.min_window_length + 1
        )
        epsilon = (
            math.sqrt(2.0 * m_inverse * self.variance * delta_prime)
            + 2.0 / 3.0 * delta_prime * m_inverse
        )
        return abs(mean_gap) > epsilon

    def _check_cuts(self) -> bool:
        """Every ``clock`` values, shrink the window while a cut W₀ | W₁ is significant."""
        self._tick += 1
        if self._tick % self.clock != 0 or self._width <= self.grace_period:
            return False
        detected = False
        shrinking = True
        while shrinking:
            shrinking = False
            n0, total0, n1, total1 = 0.0, 0.0, float(self._width), self._total
            # Walk the cut point from the oldest bucket towards the newest. The newest bucket
            # of each row is not a cut point, as in river's implementation.
            for i in range(len(self._rows) - 1, -1, -1):
                row = self._rows[i]
                size = 2.0**i
                for k in range(len(row.totals) - 1):
                    n0 += size
                    n1 -= size
                    total0 += row.totals[k]
                    total1 -= row.totals[k]
                    if (
                        n0 >= self.min_window_length
                        and n1 >= self.min_window_length
                        and self._cut_is_significant(n0, n1, total0 / n0 - total1 / n1)
                    ):
                        detected = shrinking = True
                        self._drop_oldest_bucket()
                        break
                if shrinking:
                    break
        return detected


class DriftCallback(Callback):
    """Watch a per-batch figure with a drift detector and act when it drifts.

    Parameters
    ----------
    on_drift : callable
        ``on_drift(callback, batch, logs)``, called after the batch whose value revealed a
        drift; it can, for example, raise the learning rate (``chainrule.optim.set_lr``) or
        reset the optimizer's state.
    monitor : str
        Key of the batch ``logs`` to feed the detector (default ``'loss'``).
    detector : object with ``update(value) -> bool``, optional
        Default: :class:`ADWIN` with its defaults.

    Attributes
    ----------
    drifts : list of int
        Global batch indices (counted over the whole run) at which a drift was detected.
    """

    def __init__(self, on_drift, *, monitor: str = "loss", detector=None):
        if not callable(on_drift):
            raise TypeError(f"DriftCallback: on_drift must be callable, received {on_drift!r}")
        self.on_drift = on_drift
        self.monitor = monitor
        self.detector = ADWIN() if detector is None else detector
        if not callable(getattr(self.detector, "update", None)):
            raise TypeError(
                "DriftCallback: detector must have an update(value) -> bool method, "
                f"received {type(self.detector).__name__}"
            )
        self.drifts: list[int] = []
        self._seen = 0

    def on_batch_end(self, batch, logs=None):
        logs = {} if logs is None else logs
        if self.monitor not in logs:
            raise KeyError(
                f"DriftCallback: the batch logs have no {self.monitor!r}; available: {sorted(logs)}"
            )
        drifted = bool(self.detector.update(float(logs[self.monitor])))
        if drifted:
            self.drifts.append(self._seen)
            logs["drift"] = 1.0
            self.on_drift(self, batch, logs)
        self._seen += 1
