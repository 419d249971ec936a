"""LambdaLR, OneCycleLR and CyclicLR: closed forms by default, PyTorch's sequences (optional)."""

import math

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.optim import lr_scheduler


def _sgd(lr=0.1, momentum=0.9, groups=1):
    return optim.SGD(
        [{"params": [nn.Parameter(np.zeros(1))]} for _ in range(groups)], lr=lr, momentum=momentum
    )


def _sequence(scheduler, steps, key="lr"):
    values = [scheduler.optimizer.param_groups[0][key]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.optimizer.param_groups[0][key])
    return values


def test_lambda_lr_per_group():
    opt = _sgd(groups=2)
    sched = lr_scheduler.LambdaLR(opt, [lambda t: 0.5**t, lambda t: t + 1])
    for t in range(1, 5):
        sched.step()
        assert sched.get_last_lr() == pytest.approx([0.1 * 0.5**t, 0.1 * (t + 1)])
    assert "lr_lambdas" not in sched.state_dict()
    with pytest.raises(ValueError, match="one per parameter group"):
        lr_scheduler.LambdaLR(opt, [lambda t: 1.0])


@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_one_cycle_closed_form(strategy):
    T, p, top, div, final = 20, 0.25, 1.0, 25.0, 1e4
    opt = _sgd()
    sched = lr_scheduler.OneCycleLR(
        opt, max_lr=top, total_steps=T, pct_start=p, anneal_strategy=strategy
    )
    lrs, momenta = [opt.param_groups[0]["lr"]], [opt.param_groups[0]["momentum"]]
    for _ in range(T - 1):
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])

    def anneal(a, b, f):
        return (
            b + (a - b) * (1 + math.cos(math.pi * f)) / 2 if strategy == "cos" else a + (b - a) * f
        )

    low, end_up = top / div, p * T - 1
    expected_lr, expected_m = [], []
    for t in range(T):
        if t <= end_up:
            expected_lr.append(anneal(low, top, t / end_up))
            expected_m.append(anneal(0.95, 0.85, t / end_up))
        else:
            f = (t - end_up) / (T - 1 - end_up)
            expected_lr.append(anneal(top, low / final, f))
            expected_m.append(anneal(0.85, 0.95, f))
    np.testing.assert_allclose(lrs, expected_lr, rtol=1e-12)
    np.testing.assert_allclose(momenta, expected_m, rtol=1e-12)
    sched.step()
    with pytest.raises(ValueError, match="past total_steps"):
        sched.step()


def test_one_cycle_cycles_adams_beta1():
    opt = optim.Adam([nn.Parameter(np.zeros(1))], lr=0.1)
    lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="cycle_momentum"):
        lr_scheduler.OneCycleLR(
            optim.Adagrad([nn.Parameter(np.zeros(1))]), max_lr=0.1, total_steps=10
        )


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_closed_form(mode):
    base, top, up, down, gamma = 0.1, 1.0, 3, 5, 0.9
    sched = lr_scheduler.CyclicLR(
        _sgd(), base, top, step_size_up=up, step_size_down=down, mode=mode, gamma=gamma
    )
    lrs = _sequence(sched, 20)
    for t, lr in enumerate(lrs):
        cycle, position = divmod(t, up + down)
        height = position / up if position <= up else 1 - (position - up) / down
        scale = {"triangular": 1.0, "triangular2": 0.5**cycle, "exp_range": gamma**t}[mode]
        assert lr == pytest.approx(base + (top - base) * height * scale, rel=1e-12), t


def test_cyclic_momentum_moves_against_the_lr():
    sched = lr_scheduler.CyclicLR(_sgd(), 0.1, 0.5, step_size_up=2)
    momenta = _sequence(sched, 4, key="momentum")
    np.testing.assert_allclose(momenta, [0.9, 0.85, 0.8, 0.85, 0.9])


# ------------------------------------------------------------------- against PyTorch (optional)
SCHEDULES = [
    ("OneCycleLR", {"max_lr": 0.5, "total_steps": 30}, "SGD", {"momentum": 0.9}),
    (
        "OneCycleLR",
        {
            "max_lr": [0.5, 0.2],
            "epochs": 3,
            "steps_per_epoch": 7,
            "three_phase": True,
            "anneal_strategy": "linear",
            "pct_start": 0.4,
        },
        "Adam",
        {},
    ),
    ("OneCycleLR", {"max_lr": 0.3, "total_steps": 21, "cycle_momentum": False}, "Adagrad", {}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 4}, "SGD", {"momentum": 0.9}),
    (
        "CyclicLR",
        {
            "base_lr": [0.01, 0.02],
            "max_lr": 0.2,
            "step_size_up": 3,
            "step_size_down": 5,
            "mode": "triangular2",
        },
        "Adam",
        {},
    ),
    (
        "CyclicLR",
        {
            "base_lr": 0.01,
            "max_lr": 0.2,
            "step_size_up": 4,
            "mode": "exp_range",
            "gamma": 0.95,
            "cycle_momentum": False,
        },
        "SGD",
        {},
    ),
    ("LambdaLR", {"lr_lambda": lambda t: 0.9**t + 0.1 * (t % 3)}, "SGD", {}),
]


@pytest.mark.parametrize("name,kwargs,opt_name,opt_kwargs", SCHEDULES)
def test_schedule_matches_torch(name, kwargs, opt_name, opt_kwargs):
    torch = pytest.importorskip("torch")
    two_groups = any(isinstance(v, list) for v in kwargs.values())
    ours_params = [{"params": [nn.Parameter(np.zeros(1))]} for _ in range(1 + two_groups)]
    theirs_params = [
        {"params": [torch.zeros(1, requires_grad=True)]} for _ in range(1 + two_groups)
    ]
    ours_opt = getattr(optim, opt_name)(ours_params, lr=0.1, **opt_kwargs)
    theirs_opt = getattr(torch.optim, opt_name)(theirs_params, lr=0.1, **opt_kwargs)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    momentum_key = "betas" if opt_name == "Adam" else "momentum"
    for _ in range(20):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        for g_ours, g_theirs in zip(ours_opt.param_groups, theirs_opt.param_groups, strict=True):
            if momentum_key in g_theirs:
                assert np.allclose(g_ours[momentum_key], g_theirs[momentum_key], rtol=1e-12)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
