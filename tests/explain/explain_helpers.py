"""Small training tasks for the explain tests: built from a seed, trained in a few hundred steps."""

import numpy as np

import chainrule as cr
import chainrule.functional as F
from chainrule import optim


def train(model, X, y, steps=300, lr=1e-2, loss="cross_entropy"):
    """Full-batch Adam; returns the model in eval mode."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    inputs = cr.tensor(X, dtype=model_dtype(model))
    for _ in range(steps):
        optimizer.zero_grad()
        out = model(inputs)
        value = F.cross_entropy(out, y) if loss == "cross_entropy" else F.mse_loss(out, y)
        value.backward()
        optimizer.step()
    return model.eval()


def model_dtype(model):
    return next(iter(model.parameters())).dtype


def tabular_task(seed=0, n=200, features=8):
    """Classes decided by features 0-2 only; the others are noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    score = np.stack([X[:, 0] + X[:, 1], X[:, 1] - X[:, 2], -X[:, 0] + X[:, 2]], axis=1)
    return X, score.argmax(axis=1)
