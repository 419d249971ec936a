"""Fixtures of the explain tests: a trained tanh MLP."""

import numpy as np
import pytest
from explain_helpers import tabular_task, train

import chainrule as cr
from chainrule import nn


@pytest.fixture(scope="module")
def trained_tanh_mlp():
    """A tanh MLP (8 → 16 → 3) trained to > 90 % accuracy, float64, and its data."""
    g = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Linear(8, 16, generator=g), nn.Tanh(), nn.Linear(16, 3, generator=g)
    ).double()
    X, y = tabular_task()
    train(model, X, y)
    with cr.no_grad():
        accuracy = (model(cr.tensor(X, dtype=np.float64)).data.argmax(axis=1) == y).mean()
    assert accuracy > 0.9
    return model, X, y
