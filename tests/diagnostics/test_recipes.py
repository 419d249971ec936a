import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.diagnostics import check_initial_loss, overfit_one_batch


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 8)).astype(np.float32), np.arange(300) % 10


def test_initial_loss_of_a_well_initialised_classifier_is_ln_k(data):
    model = nn.Sequential(nn.Linear(8, 32, generator=0), nn.ReLU(), nn.Linear(32, 10, generator=1))
    verdict = check_initial_loss(model, data)
    assert verdict.ok and verdict.expected == pytest.approx(math.log(10))
    assert "close to" in verdict.message


def test_over_confident_initialisation_is_flagged_with_a_remedy(data):
    model = nn.Sequential(nn.Linear(8, 32, generator=0), nn.ReLU(), nn.Linear(32, 10, generator=1))
    model[2].weight.data *= 50  # huge logits at init
    verdict = check_initial_loss(model, data)
    assert not verdict.ok and verdict.value > 3 * math.log(10)
    assert "over-confident" in verdict.message and "initialisation" in verdict.message


def test_regression_expects_mean_square_of_targets():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = rng.normal(loc=3.0, size=(100, 1)).astype(np.float32)
    model = nn.Linear(3, 1, generator=0)
    model.weight.data *= 0
    model.bias.data *= 0
    verdict = check_initial_loss(model, (X, y), loss="mse")
    assert verdict.ok and verdict.value == pytest.approx(
        float(np.mean(y.astype(np.float64) ** 2)), rel=1e-5
    )


def test_a_working_network_overfits_one_batch_and_is_restored(data):
    X, y = data[0][:16], data[1][:16]
    model = nn.Sequential(nn.Linear(8, 64, generator=0), nn.Tanh(), nn.Linear(64, 10, generator=1))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    verdict = overfit_one_batch(model, (X, y))
    assert verdict.ok, verdict.message
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items())


def test_a_network_with_a_frozen_body_cannot_overfit(data):
    X, y = data[0][:16], data[1][:16]
    model = nn.Sequential(nn.Linear(8, 64, generator=0), nn.Tanh(), nn.Linear(64, 10, generator=1))
    model[0].freeze()
    model[0].weight.data *= 0  # a frozen dead body: the head gets constant features
    verdict = overfit_one_batch(model, (X, y), steps=100)
    assert not verdict.ok and "frozen or disconnected" in verdict.message
