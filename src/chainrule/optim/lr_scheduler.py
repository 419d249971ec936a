"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``).

A scheduler changes ``group["lr"]`` of an optimizer's parameter groups each
time ``step()`` is called (usually once per epoch, after ``optimizer.step()``).
Creating one already applies the value for step 0. The epoch-based schedules
use PyTorch's recursive (chainable) forms, which equal these closed forms
when nothing else changes the learning rate (η₀ the initial lr, t the
number of ``step()`` calls so far):

* StepLR:            η₀ γ^⌊t / step_size⌋
* MultiStepLR:       η₀ γ^(number of milestones ≤ t)
* ExponentialLR:     η₀ γᵗ
* CosineAnnealingLR: η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2
* LinearLR:          η₀ (s + (e − s) min(t, T) / T)

``ReduceLROnPlateau`` instead watches a metric passed to ``step(metric)``.
"""

from __future__ import annotations

import math

from .._monitor import BestMonitor
from .._validation import check_int, check_real
from .optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "ReduceLROnPlateau",
    "StepLR",
]


def _check_optimizer(owner: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{owner}: expected a chainrule.optim.Optimizer, received {type(optimizer).__name__}"
        )


def _check_real(owner: str, name: str, value, low=None, low_open=False, high=None, high_open=False):
    check_real(owner, name, value, low=low, low_open=low_open, high=high, high_open=high_open)


def _check_int(owner: str, name: str, value, low: int) -> int:
    return int(check_int(owner, name, value, low=low))


class LRScheduler:
    """Base class: keeps ``base_lrs`` and ``last_epoch``; each ``step()`` applies ``get_lr()``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', which "
                        f"resuming with last_epoch={last_epoch} needs"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set each group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates set by the latest ``step()``, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer, as JSON-friendly values."""
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in self.__dict__.items()
            if k != "optimizer"
        }

    def load_state_dict(self, state_dict: dict) -> None:
        unknown = [k for k in state_dict if k not in self.__dict__ or k == "optimizer"]
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected keys {unknown}")
        for k, v in state_dict.items():
            setattr(self, k, list(v) if isinstance(v, (list, tuple)) else v)

    def _lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs: η₀ γ^⌊t / step_size⌋."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size = _check_int("StepLR", "step_size", step_size, 1)
        _check_real("StepLR", "gamma", gamma, low=0.0)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        milestones = [_check_int("MultiStepLR", "milestones[i]", m, 0) for m in milestones]
        self.milestones = sorted(milestones)
        _check_real("MultiStepLR", "gamma", gamma, low=0.0)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._lrs()
        return [lr * self.gamma ** hits for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: η₀ γᵗ."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        _check_real("ExponentialLR", "gamma", gamma, low=0.0)
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from η₀ to ``eta_min`` over ``T_max`` epochs (SGDR without restarts).

    η_t = η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2, computed with
    PyTorch's recursive form so that it chains with other changes to the lr;
    after T_max it rises again along the same cosine, as PyTorch's does.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_max = _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        _check_real("CosineAnnealingLR", "eta_min", eta_min, low=0.0)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:  # resumed: use the closed form
            return [
                eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:  # the trough: the ratio below would divide by zero
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs, strict=True)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._lrs()]


class LinearLR(LRScheduler):
    """Scale the learning rate linearly from ``start_factor``·η₀ to ``end_factor``·η₀ over
    ``total_iters`` steps, then keep it (a warm-up with the defaults 1/3 → 1 over 5 steps)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        _check_real("LinearLR", "start_factor", start_factor, low=0.0, low_open=True, high=1.0)
        _check_real("LinearLR", "end_factor", end_factor, low=0.0, high=1.0)
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _check_int("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        t, s, e, T = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return [lr * s for lr in self._lrs()]
        if t > T:
            return self._lrs()
        factor = 1.0 + (e - s) / (T * s + (t - 1) * (e - s))
        return [lr * factor for lr in self._lrs()]


class ReduceLROnPlateau:
    """Divide the learning rate by 1/``factor`` when a metric stops improving.

    After each epoch call ``step(metric)``. A value *improves* on the best
    seen so far when (mode "min") it is below best·(1 − threshold) (``threshold_mode``
    "rel") or best − threshold ("abs"); "max" mirrors this. After more than
    ``patience`` epochs without improvement each group's lr becomes
    max(lr·factor, min_lr) (changes smaller than ``eps`` are skipped), and
    then ``cooldown`` epochs pass before bad epochs count again.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr=0.0,
        eps: float = 1e-8,
    ):
        owner = "ReduceLROnPlateau"
        _check_optimizer(owner, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{owner}: mode must be 'min' or 'max', received {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{owner}: threshold_mode must be 'rel' or 'abs', received {threshold_mode!r}"
            )
        _check_real(owner, "factor", factor, low=0.0, high=1.0, high_open=True)
        _check_real(owner, "threshold", threshold, low=0.0)
        _check_real(owner, "eps", eps, low=0.0)
        self.patience = _check_int(owner, "patience", patience, 0)
        self.cooldown = _check_int(owner, "cooldown", cooldown, 0)
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(
                    f"{owner}: expected {len(groups)} values of min_lr (one per group), received "
                    f"{len(min_lr)}"
                )
            min_lrs = [float(v) for v in min_lr]
        else:
            _check_real(owner, "min_lr", min_lr, low=0.0)
            min_lrs = [float(min_lr)] * len(groups)
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor, self.threshold, self.eps = float(factor), float(threshold), float(eps)
        self.min_lrs = min_lrs
        self.monitor = BestMonitor(owner, mode, self.threshold, delta_mode=threshold_mode)
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    @property
    def best(self) -> float:
        """The best metric so far (the shared :class:`~chainrule._monitor.BestMonitor`'s)."""
        return self.monitor.best

    @property
    def num_bad_epochs(self) -> int:
        return self.monitor.wait

    def is_better(self, value: float, best: float) -> bool:
        return self.monitor.is_improvement(value, best)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics) -> None:
        """Record this epoch's metric (a number or one-element Tensor); reduce the lr if needed."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        self.monitor.update(current)
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.monitor.wait = 0
        if self.monitor.wait > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = group["lr"]
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.monitor.wait = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "monitor")}
        state.update(best=self.monitor.best, num_bad_epochs=self.monitor.wait)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        known = set(self.__dict__) - {"optimizer", "monitor"} | {"best", "num_bad_epochs"}
        unknown = [k for k in state if k not in known]
        if unknown:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: unexpected keys {unknown}")
        if "best" in state:
            self.monitor.best = float(state.pop("best"))
        if "num_bad_epochs" in state:
            self.monitor.wait = int(state.pop("num_bad_epochs"))
        self.__dict__.update(state)
