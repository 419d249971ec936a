"""One "best value so far" tracker, shared by every feature that watches a number.

EarlyStopping, ModelCheckpoint(save_best_only), the ReduceLROnPlateau
scheduler and callback, and the estimators' ``n_iter_no_change`` all ask the
same two questions of each new value: *is it a significant improvement* (which
resets the count of bad steps) and *is it the best so far*. They differ only
in how "significant" is measured and in whether the best follows every new
extreme or only significant ones:

* EarlyStopping (Keras): absolute ``min_delta``; the best moves on improvements only.
* ReduceLROnPlateau (PyTorch): ``threshold`` relative or absolute; the same.
* scikit-learn's ``tol``: absolute; the best follows every new extreme, and a
  value exactly at the margin counts as an improvement (``strict=False``).

For mode 'min', ``value`` is a significant improvement on ``best`` when
``value < best - min_delta`` ('abs') or ``value < best · (1 - min_delta)``
('rel'); 'max' mirrors this. NaN never improves.

Examples
--------
>>> monitor = BestMonitor("demo", mode="min", min_delta=0.1)
>>> [monitor.update(v) for v in (1.0, 0.95, 0.5)], monitor.best, monitor.wait
([True, False, True], 0.5, 0)
"""

from __future__ import annotations

import math

from ._validation import check_choice, check_real

__all__ = ["BestMonitor", "resolve_mode"]

_MAXIMISED = ("acc", "r2", "auc", "precision", "recall", "f1", "score")


def resolve_mode(mode: str, monitor: str, owner: str) -> str:
    """'min' or 'max'; 'auto' maximises names that read like scores (accuracy, r2, auc, f1...)."""
    check_choice(owner, "mode", mode, ("auto", "min", "max"))
    if mode != "auto":
        return mode
    return "max" if any(word in monitor for word in _MAXIMISED) else "min"


class BestMonitor:
    """The best value seen so far and the number of updates since the last significant improvement.

    Parameters
    ----------
    owner : str
        Names the feature in error messages.
    mode : {'min', 'max'}
    min_delta : float
        The margin a value must beat the best by to count as an improvement.
    delta_mode : {'abs', 'rel'}
        ``min_delta`` is absolute, or relative to the best (PyTorch's ``threshold_mode``).
    baseline : float, optional
        The starting best (nothing counts as an improvement until it is beaten).
    best_follows : {'improvement', 'any'}
        Whether ``best`` moves only on a significant improvement (Keras, PyTorch)
        or to every new extreme (scikit-learn's ``best_loss_``).
    strict : bool
        True: a value must beat the margin strictly (Keras, PyTorch); False: a
        value exactly at the margin also counts (scikit-learn's ``tol`` test).

    Attributes
    ----------
    best : float
    best_step : int
        The index of the update that set ``best`` (-1 before any).
    wait : int
        Updates since the last significant improvement.
    is_new_best : bool
        Whether the last update set ``best``.
    steps : int
        Updates so far.
    """

    def __init__(
        self,
        owner: str,
        mode: str = "min",
        min_delta: float = 0.0,
        delta_mode: str = "abs",
        baseline: float | None = None,
        best_follows: str = "improvement",
        strict: bool = True,
    ):
        self.owner = owner
        self.mode = check_choice(owner, "mode", mode, ("min", "max"))
        self.min_delta = check_real(owner, "min_delta", min_delta, low=0.0)
        self.delta_mode = check_choice(owner, "delta_mode", delta_mode, ("abs", "rel"))
        self.best_follows = check_choice(
            owner, "best_follows", best_follows, ("improvement", "any")
        )
        self.strict = bool(strict)
        self.baseline = (
            None if baseline is None else check_real(owner, "baseline", baseline, allow_inf=True)
        )
        self.reset()

    def reset(self) -> None:
        """Forget every value seen (the best returns to the baseline or ±inf)."""
        worst = math.inf if self.mode == "min" else -math.inf
        self.best = worst if self.baseline is None else self.baseline
        self.best_step = -1
        self.wait = 0
        self.steps = 0
        self.is_new_best = False

    def is_improvement(self, value: float, reference: float | None = None) -> bool:
        """Whether ``value`` beats ``reference`` (default: the best) by the margin."""
        reference = self.best if reference is None else reference
        if math.isnan(value):
            return False
        if self.delta_mode == "rel":
            # PyTorch's signed form: best · (1 ∓ threshold)
            margin = reference * self.min_delta if math.isfinite(reference) else 0.0
        else:
            margin = self.min_delta
        if self.mode == "min":
            bound = reference - margin
            return value < bound or (not self.strict and value == bound)
        bound = reference + margin
        return value > bound or (not self.strict and value == bound)

    def _beats_best(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value < self.best if self.mode == "min" else value > self.best

    def update(self, value: float) -> bool:
        """Record one value; return whether it was a significant improvement."""
        value = float(value)
        improved = self.is_improvement(value)
        self.wait = 0 if improved else self.wait + 1
        self.is_new_best = (
            improved if self.best_follows == "improvement" else self._beats_best(value)
        )
        if self.is_new_best:
            self.best = value
            self.best_step = self.steps
        self.steps += 1
        return improved

    def state_dict(self) -> dict:
        """JSON-able state (for checkpoints)."""
        return {
            "best": self.best,
            "best_step": self.best_step,
            "wait": self.wait,
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state.get("best", self.best))
        self.best_step = int(state.get("best_step", self.best_step))
        self.wait = int(state.get("wait", self.wait))
        self.steps = int(state.get("steps", self.steps))
