"""Optional cross-checks against PyTorch itself (skipped when torch is not installed)."""

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.optim import lr_scheduler

torch = pytest.importorskip("torch")

OPTIMIZERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.2, "weight_decay": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.7, "centered": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.3, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
    ),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_optimizer_matches_torch_over_ten_steps(name, kwargs):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(3, 4))
    ours = nn.Parameter(theta.copy(), dtype=np.float64)
    theirs = torch.tensor(theta.copy(), requires_grad=True)
    opt_ours = getattr(optim, name)([ours], **kwargs)
    opt_theirs = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(10):
        g = rng.normal(size=(3, 4))
        ours.grad = g.copy()
        theirs.grad = torch.tensor(g.copy())
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 4, 4], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.8}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 7}),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS)
def test_scheduler_matches_torch(name, kwargs):
    ours_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.5)
    theirs_opt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.5)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    for _ in range(15):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()


def test_reduce_on_plateau_matches_torch():
    kwargs = {
        "mode": "min",
        "factor": 0.5,
        "patience": 2,
        "threshold": 0.05,
        "threshold_mode": "abs",
        "cooldown": 1,
        "min_lr": 0.01,
    }
    ours_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    theirs_opt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=1.0)
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    for metric in [
        3,
        2.5,
        2.49,
        2.47,
        2.46,
        2.0,
        2.0,
        1.99,
        1.98,
        1.97,
        1.96,
        1.95,
        1.94,
        1.93,
        1.92,
        1.91,
    ]:
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    for norm_type in (2.0, 1.0, 3.0, float("inf")):
        ours = [nn.Parameter(np.zeros(g.shape), dtype=np.float64) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for o, t, g in zip(ours, theirs, grads, strict=True):
            o.grad = g.copy()
            t.grad = torch.tensor(g.copy())
        total = optim.clip_grad_norm_(ours, 0.5, norm_type=norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type=norm_type)
        assert total == pytest.approx(float(expected), rel=1e-10)
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-10)
