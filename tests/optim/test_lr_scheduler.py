"""Learning-rate schedules against their closed forms, plateau logic and state dicts."""

import json
import math

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.optim import lr_scheduler


def make_optimizer(lr=0.1, second_lr=None):
    groups = [{"params": [nn.Parameter(np.ones(2))]}]
    if second_lr is not None:
        groups.append({"params": [nn.Parameter(np.ones(2))], "lr": second_lr})
    return optim.SGD(groups, lr=lr, momentum=0.9)


def lrs_over(scheduler, epochs):
    values = [scheduler.get_last_lr()]
    for _ in range(epochs):
        scheduler.optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr())
    return np.array(values)


@pytest.mark.parametrize("make,closed_form", [
    (lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), lambda t, b: b * 0.5 ** (t // 3)),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.1),
     lambda t, b: b * 0.1 ** sum(m <= t for m in [2, 5, 5])),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), lambda t, b: b * 0.9 ** t),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001),
     lambda t, b: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * t / 4)) / 2),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
     lambda t, b: b * (0.25 + 0.75 * min(t, 4) / 4)),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.5, total_iters=3),
     lambda t, b: b * (1.0 - 0.5 * min(t, 3) / 3)),
])
def test_schedule_matches_closed_form(make, closed_form):
    opt = make_optimizer(0.1, second_lr=0.02)
    scheduler = make(opt)
    got = lrs_over(scheduler, 12)  # for the cosine: past T_max, where it rises again
    expected = np.array([[closed_form(t, 0.1), closed_form(t, 0.02)] for t in range(13)])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    assert opt.param_groups[0]["lr"] == got[-1][0]
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_linear_lr_defaults_warm_up():
    scheduler = lr_scheduler.LinearLR(make_optimizer(0.3))
    np.testing.assert_allclose(
        lrs_over(scheduler, 6)[:, 0], [0.1, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3]
    )


def test_schedulers_chain():
    opt = make_optimizer(1.0)
    warm = lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    values = []
    for _ in range(4):
        opt.step()
        warm.step()
        decay.step()
        values.append(opt.param_groups[0]["lr"])
    # the factors multiply: warm-up 0.5 → 0.75 → 1 → 1, decay 0.5 per step
    np.testing.assert_allclose(values, [0.75 * 0.5, 1.0 * 0.25, 1.0 * 0.125, 1.0 * 0.0625])


def test_reduce_on_plateau_min_mode():
    opt = make_optimizer(1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    losses = [5, 4] + [4] * 11
    lrs = []
    for loss in losses:
        scheduler.step(loss)
        lrs.append(scheduler.get_last_lr()[0])
    # epochs 3, 4, 5 are bad; at the 3rd (> patience 2) the lr halves. Epoch 6 is the
    # cooldown (not counted); 7, 8, 9 bad → halve; 10 cooldown; 11, 12, 13 → max(0.125, min_lr)
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]


def test_reduce_on_plateau_threshold_and_max_mode():
    opt = make_optimizer(1.0)
    scheduler = lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", patience=0, threshold=0.1, threshold_mode="abs"
    )
    scheduler.step(1.0)   # improves on -inf
    scheduler.step(1.05)  # not by more than 0.1: a bad epoch → reduce (patience 0)
    assert scheduler.get_last_lr() == [pytest.approx(0.1)]
    scheduler.step(1.2)   # improves
    assert scheduler.best == 1.2 and scheduler.num_bad_epochs == 0
    rel = lr_scheduler.ReduceLROnPlateau(make_optimizer(1.0), threshold=0.1)
    rel.step(10.0)
    assert not rel.is_better(9.5, rel.best) and rel.is_better(8.9, rel.best)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.3),
    lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3]),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=5),
    lambda o: lr_scheduler.LinearLR(o, total_iters=4),
    lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1),
])
def test_state_dict_round_trip(make):
    def advance(s, n):
        for _ in range(n):
            if isinstance(s, lr_scheduler.ReduceLROnPlateau):
                s.step(1.0)
            else:
                s.step()

    opt_a = make_optimizer(0.1)
    a = make(opt_a)
    advance(a, 3)
    state = json.loads(json.dumps(a.state_dict()))
    opt_b = make_optimizer(0.1)
    # the resume order of PyTorch: build both, then load the optimizer, then the scheduler
    b = make(opt_b)
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(state)
    advance(a, 3)
    advance(b, 3)
    assert a.get_last_lr() == pytest.approx(b.get_last_lr())
    assert opt_a.param_groups[0]["lr"] == pytest.approx(opt_b.param_groups[0]["lr"])


def test_scheduler_argument_errors():
    opt = make_optimizer()
    with pytest.raises(ValueError, match="step_size must be >= 1, received 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match=r"factor must be in \[0.0, 1.0\), received 1.5"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="start_factor"):
        lr_scheduler.LinearLR(opt, start_factor=0.0)
    with pytest.raises(TypeError, match="expected a chainrule.optim.Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
