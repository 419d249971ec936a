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
* LambdaLR:          η₀ λ(t)

``OneCycleLR`` and ``CyclicLR`` are stepped once per batch and compute their
value from the step count directly (formulas in their docstrings); with
``cycle_momentum`` they move the momentum (or Adam's β₁) against the lr.

``ReduceLROnPlateau`` instead watches a metric passed to ``step(metric)``.
"""

from __future__ import annotations

import math

from .._monitor import BestMonitor
from .._validation import check_int, check_real
from .optimizer import Optimizer

__all__ = [
    "CosineAnnealingLR",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
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


class LambdaLR(LRScheduler):
    """Set each group's learning rate to η₀ · λ(t), t the number of ``step()`` calls so far.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        λ(epoch) → factor; one per parameter group, or one for all.
    last_epoch : int

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    >>> warmup = optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 4))
    >>> [round(warmup.get_last_lr()[0], 2) for _ in range(5) if warmup.step() or True]
    [0.5, 0.75, 1.0, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        _check_optimizer("LambdaLR", optimizer)
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups or not all(callable(f) for f in lambdas):
            raise ValueError(
                f"LambdaLR: expected a callable or {groups} callables (one per parameter "
                f"group), received {lr_lambda!r}"
            )
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [
            base * f(self.last_epoch)
            for base, f in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]

    def state_dict(self) -> dict:
        """As the base class, without the functions (PyTorch does the same)."""
        state = super().state_dict()
        state.pop("lr_lambdas", None)
        return state


def _per_group(owner: str, name: str, value, optimizer) -> list:
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, (list, tuple)) else [value] * groups
    if len(values) != groups:
        raise ValueError(
            f"{owner}: expected {groups} values of {name} (one per group), received {len(values)}"
        )
    for v in values:
        _check_real(owner, name, v, low=0.0)
    return [float(v) for v in values]


def _uses_beta1(owner: str, optimizer) -> bool:
    """Whether the momentum to cycle is Adam's β₁ (``betas``) or ``momentum``; error if neither."""
    if "betas" in optimizer.defaults:
        return True
    if "momentum" in optimizer.defaults:
        return False
    raise ValueError(
        f"{owner}: cycle_momentum needs an optimizer with 'momentum' or 'betas' "
        f"(received {type(optimizer).__name__}); pass cycle_momentum=False"
    )


def _set_momentum(group: dict, value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), PyTorch's ``OneCycleLR``; step it after every batch.

    With T = ``total_steps`` (or epochs · steps_per_epoch), η_max = ``max_lr``,
    η₀ = η_max / div_factor and η_min = η₀ / final_div_factor, the lr anneals

    * from η₀ up to η_max over steps 0 … p·T − 1 (p = ``pct_start``), then down to η_min
      at step T − 1;
    * with ``three_phase``: η₀ → η_max until p·T − 1, back to η₀ until 2p·T − 2, then
      to η_min at T − 1;

    along cos (η = end + (start − end)(1 + cos(π f))/2, f the fraction of the phase done)
    or linearly. With ``cycle_momentum`` the momentum (β₁ for Adam-like optimizers) goes
    the other way, between ``max_momentum`` and ``base_momentum``. Stepping past T raises.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> lrs = [sched.get_last_lr()[0] for _ in range(10) if sched.step() or True]
    >>> round(max(lrs), 3), lrs.index(max(lrs))  # the peak: step p·T − 1 = 2, the 2nd call
    (1.0, 1)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        owner = "OneCycleLR"
        _check_optimizer(owner, optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(f"{owner}: give total_steps, or both epochs and steps_per_epoch")
            total_steps = _check_int(owner, "epochs", epochs, 1) * _check_int(
                owner, "steps_per_epoch", steps_per_epoch, 1
            )
        self.total_steps = _check_int(owner, "total_steps", total_steps, 1)
        _check_real(owner, "pct_start", pct_start, low=0.0, high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{owner}: anneal_strategy must be 'cos' or 'linear', received {anneal_strategy!r}"
            )
        _check_real(owner, "div_factor", div_factor, low=0.0, low_open=True)
        _check_real(owner, "final_div_factor", final_div_factor, low=0.0, low_open=True)
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, bool(cycle_momentum)
        T, p = self.total_steps, float(pct_start)
        if three_phase:
            self._phases = [
                (p * T - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * p * T - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (p * T - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group(owner, "max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        if self.cycle_momentum:
            self._use_beta1 = _uses_beta1(owner, optimizer)
            if last_epoch == -1:
                for group, low, high in zip(
                    optimizer.param_groups,
                    _per_group(owner, "base_momentum", base_momentum, optimizer),
                    _per_group(owner, "max_momentum", max_momentum, optimizer),
                    strict=False,
                ):
                    _set_momentum(group, high, self._use_beta1)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * fraction) + 1)
        return (end - start) * fraction + start

    def get_lr(self) -> list:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {step} times, past total_steps={self.total_steps}; "
                "give the number of batches of the whole run"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr_from, lr_to, m_from, m_to) in enumerate(self._phases):
                if step <= end_step or i == len(self._phases) - 1:
                    fraction = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], fraction))
                    if self.cycle_momentum:
                        momentum = self._anneal(group[m_from], group[m_to], fraction)
                        _set_momentum(group, momentum, self._use_beta1)
                    break
                start_step = end_step
        return lrs


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), PyTorch's ``CyclicLR``; step it after every batch.

    With cycle length L = step_size_up + step_size_down and r = step_size_up / L, at step t::

        c = ⌊1 + t / L⌋,   x = 1 + t/L − c                      (position in the cycle, 0 … 1)
        s = x / r if x ≤ r else (x − 1)/(r − 1)                 (0 → 1 → 0)
        η = base_lr + (max_lr − base_lr) · s · scale

    where scale is 1 ('triangular'), 1/2^(c − 1) ('triangular2'), γᵗ ('exp_range'), or
    ``scale_fn`` of c (``scale_mode='cycle'``) or of t ('iterations'). With
    ``cycle_momentum`` the momentum (β₁ for Adam-like optimizers) moves the other way:
    max_momentum − (max_momentum − base_momentum) · s · scale.

    Examples
    --------
    >>> import numpy as np, chainrule.nn as nn, chainrule.optim as optim
    >>> opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = optim.lr_scheduler.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
    >>> [round(sched.get_last_lr()[0], 2) for _ in range(5) if sched.step() or True]
    [0.3, 0.5, 0.3, 0.1, 0.3]
    """

    _MODES = ("triangular", "triangular2", "exp_range")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr,
        max_lr,
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn=None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch: int = -1,
    ):
        owner = "CyclicLR"
        _check_optimizer(owner, optimizer)
        base_lrs = _per_group(owner, "base_lr", base_lr, optimizer)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group(owner, "max_lr", max_lr, optimizer)
        up = _check_int(owner, "step_size_up", step_size_up, 1)
        down = (
            up if step_size_down is None else _check_int(owner, "step_size_down", step_size_down, 1)
        )
        self.total_size, self.step_ratio = float(up + down), up / (up + down)
        if scale_fn is None and mode not in self._MODES:
            raise ValueError(
                f"{owner}: mode must be one of {', '.join(self._MODES)}, received {mode!r}"
            )
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(
                f"{owner}: scale_mode must be 'cycle' or 'iterations', received {scale_mode!r}"
            )
        _check_real(owner, "gamma", gamma, low=0.0)
        self.mode, self.gamma = mode, float(gamma)
        self._scale_fn = scale_fn
        self.scale_mode = (
            scale_mode
            if scale_fn is not None
            else ("iterations" if mode == "exp_range" else "cycle")
        )
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self._use_beta1 = _uses_beta1(owner, optimizer)
            self.base_momentums = _per_group(owner, "base_momentum", base_momentum, optimizer)
            self.max_momentums = _per_group(owner, "max_momentum", max_momentum, optimizer)
            if last_epoch == -1:
                for group, low, high in zip(
                    optimizer.param_groups, self.base_momentums, self.max_momentums, strict=False
                ):
                    _set_momentum(group, high, self._use_beta1)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        if self._scale_fn is not None:
            return self._scale_fn(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base + (top - base) * factor * scale
            for base, top in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=False
            ):
                _set_momentum(group, high - (high - low) * factor * scale, self._use_beta1)
        return lrs

    def state_dict(self) -> dict:
        """As the base class, without a user's ``scale_fn`` (PyTorch does the same)."""
        state = super().state_dict()
        state.pop("_scale_fn", None)
        return state
