"""One of each helper: the optimizer table, lr accessors, the best-value monitor, the validators."""

import math

import numpy as np
import pytest

from chainrule import nn, optim
from chainrule._monitor import BestMonitor, resolve_mode
from chainrule._validation import check_bool, check_choice, check_int, check_real


def params():
    return nn.Linear(2, 1, generator=np.random.default_rng(0)).parameters()


@pytest.mark.parametrize("name, cls", [("sgd", optim.SGD), ("Adam", optim.Adam),
                                       ("adamw", optim.AdamW), ("RMSprop", optim.RMSprop),
                                       ("adagrad", optim.Adagrad)])
def test_get_optimizer_builds_each_name(name, cls):
    opt = optim.get_optimizer(name, params(), lr=0.05)
    assert type(opt) is cls and optim.get_lr(opt) == 0.05


def test_get_optimizer_errors_and_instances():
    opt = optim.SGD(params(), lr=0.1)
    assert optim.get_optimizer(opt, None) is opt
    with pytest.raises(ValueError,
                       match="unknown optimizer 'lion'; expected one of adadelta, adagrad"):
        optim.get_optimizer("lion", params())
    with pytest.raises(TypeError, match="expected an optimizer name"):
        optim.get_optimizer(3, params())
    with pytest.raises(ValueError, match="pass the arguments when building it"):
        optim.get_optimizer(opt, None, lr=1.0)


def test_set_lr_sets_every_group():
    layer = nn.Linear(2, 2, generator=np.random.default_rng(0))
    opt = optim.SGD([{"params": [layer.weight]}, {"params": [layer.bias], "lr": 0.5}], lr=0.1)
    optim.set_lr(opt, 0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01]
    with pytest.raises(ValueError, match="set_lr: lr must be in"):
        optim.set_lr(opt, -1.0)


def test_best_monitor_abs_rel_and_any():
    keras = BestMonitor("t", "min", min_delta=0.1)
    assert [keras.update(v) for v in (1.0, 0.95, 0.85, 0.8)] == [True, False, True, False]
    assert keras.best == 0.85 and keras.wait == 1 and keras.best_step == 2
    rel = BestMonitor("t", "max", min_delta=0.1, delta_mode="rel")
    assert [rel.update(v) for v in (1.0, 1.05, 1.2)] == [True, False, True]
    # scikit-learn's tol: the best follows every minimum, only a tol-improvement resets
    sk = BestMonitor("t", "min", min_delta=0.1, best_follows="any")
    assert [sk.update(v) for v in (1.0, 0.95, 0.9, 0.79)] == [True, False, False, True]
    assert sk.best == 0.79
    assert BestMonitor("t", "min").update(math.nan) is False
    base = BestMonitor("t", "min", baseline=0.5)
    assert base.update(0.6) is False and base.best == 0.5


def test_plateau_scheduler_matches_pytorch_rule_with_negative_values():
    """rel mode on negative metrics: PyTorch's best·(1 − threshold), not best − |best|·threshold."""
    opt = optim.SGD(params(), lr=1.0)
    scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, threshold=0.1, patience=0)
    scheduler.step(-1.0)
    scheduler.step(-0.95)  # -0.95 < -1 · 0.9 = -0.9: an improvement under PyTorch's rule
    assert optim.get_lr(opt) == 1.0 and scheduler.best == -0.95
    state = scheduler.state_dict()
    assert state["best"] == -0.95 and state["num_bad_epochs"] == 0


def test_resolve_mode():
    assert resolve_mode("auto", "val_accuracy", "x") == "max"
    assert resolve_mode("auto", "val_loss", "x") == "min"
    with pytest.raises(ValueError, match="x: mode must be one of 'auto', 'min', 'max'"):
        resolve_mode("lowest", "val_loss", "x")


def test_validators():
    assert check_int("o", "n", np.int64(3), low=1) == 3
    with pytest.raises(TypeError, match="o: n must be an int, received True"):
        check_int("o", "n", True)
    with pytest.raises(ValueError, match="o: n must be >= 1, received 0"):
        check_int("o", "n", 0, low=1)
    assert check_int("o", "n", math.inf, low=1, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match=r"o: x must be in \[0.0, 1.0\), received 1.0"):
        check_real("o", "x", 1.0, low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match="received nan"):
        check_real("o", "x", math.nan)
    with pytest.raises(ValueError, match="received inf"):
        check_real("o", "x", math.inf, low=0.0)
    with pytest.raises(TypeError, match="o: f must be True or False, received 1"):
        check_bool("o", "f", 1)
    assert check_bool("o", "f", np.bool_(True)) is True
    with pytest.raises(ValueError, match="o: c must be one of 'a', 'b', received 'z'"):
        check_choice("o", "c", "z", ("a", "b"))
