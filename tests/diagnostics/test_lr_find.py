import math

import numpy as np
import pytest

import chainrule.functional as F
from chainrule import nn, optim
from chainrule.diagnostics import lr_find


class Quadratic(nn.Module):
    """loss = ½ a (w − w*)² through a 'model' whose output is w − w* for every sample."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.array([5.0]), dtype=np.float64)

    def forward(self, x):
        return (self.w - 2.0) * x


def half_a_square(a):
    def loss(output, target):
        return (output * output).mean() * (0.5 * a)

    return loss


@pytest.mark.parametrize("a", [0.5, 4.0])
def test_sweep_on_a_quadratic_whose_stable_range_is_known(a):
    # SGD on ½ a (w − w*)² multiplies the error by (1 − lr·a) per step: it converges for
    # lr < 2/a, fastest at lr = 1/a, and diverges beyond 2/a. The sweep must stop soon after
    # 2/a, and the suggestion must lie in the converging range.
    model = Quadratic()
    opt = optim.SGD(model.parameters(), lr=0.01)
    X, y = np.ones((64, 1)), np.zeros(64)
    result = lr_find(
        model,
        (X, y),
        loss=half_a_square(a),
        optimizer=opt,
        start_lr=1e-4,
        end_lr=100.0,
        num_iter=200,
        smoothing=0.0,
        generator=0,
    )
    assert result.diverged
    assert 2 / a < result.lrs[-1] < 2 / a * 1.6
    assert 1e-3 / a < result.suggestion < 2 / a
    assert result.min_lr < 2 / a * 1.1


def test_model_and_optimizer_are_restored_bit_for_bit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(
        nn.Linear(4, 8, generator=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2, generator=1)
    )
    opt = optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(3):  # some optimizer state to keep
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    opt_before = opt.state_dict()
    lr_find(model, (X, y), loss="cross_entropy", optimizer=opt, num_iter=30, generator=1)
    for key, value in model.state_dict().items():
        assert np.array_equal(value, before[key]), key
    after = opt.state_dict()
    assert after["param_groups"] == opt_before["param_groups"]
    for index, state in opt_before["state"].items():
        for key, value in state.items():
            assert np.array_equal(np.asarray(after["state"][index][key]), np.asarray(value))


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(4, 8, generator=0), nn.ReLU(), nn.Linear(8, 2, generator=1))
    result = lr_find(
        model,
        (X, y),
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        generator=0,
    )
    path = result.plot(tmp_path / "lr.png")
    assert path.stat().st_size > 10_000
    assert all(math.isfinite(v) for v in result.losses[:-1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_lr": 0}, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 0.5}, "larger"),
        ({"num_iter": 1}, "num_iter"),
        ({"smoothing": 1.0}, "smoothing"),
    ],
)
def test_bad_arguments(kwargs, match):
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=match):
        lr_find(
            model,
            (np.ones((4, 2)), np.zeros(4, dtype=np.int64)),
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            **kwargs,
        )
