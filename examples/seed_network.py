"""The tutorial's network, end to end: two sigmoid layers, squared error, full-batch descent.

    z⁽¹⁾ = W⁽¹⁾ x + b⁽¹⁾,  a⁽¹⁾ = σ(z⁽¹⁾),  z⁽²⁾ = W⁽²⁾ a⁽¹⁾ + b⁽²⁾,  a⁽²⁾ = σ(z⁽²⁾)
    J = 1/(2m) Σᵢ ‖y⁽ⁱ⁾ − a⁽²⁾⁽ⁱ⁾‖²

chainrule computes the gradients by reverse-mode autodiff. ``manual_gradients``
writes the same gradients out with the tutorial's error terms δ, in plain NumPy,
so the two can be compared (tests/examples/test_seed_network.py does):

    δ⁽²⁾ = (a⁽²⁾ − y) ⊙ σ'(z⁽²⁾)
    δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ σ'(z⁽¹⁾)
    ∂J/∂W⁽ˡ⁾ = (1/m) Σᵢ δ⁽ˡ⁾⁽ⁱ⁾ a⁽ˡ⁻¹⁾⁽ⁱ⁾ᵀ,   ∂J/∂b⁽ˡ⁾ = (1/m) Σᵢ δ⁽ˡ⁾⁽ⁱ⁾

Two notes on the tutorial's text:

* Its code computes ``sigmoid_prime(a1)``, i.e. σ'(a) = σ(a)(1 − σ(a)). That is
  the derivative taken at the wrong point: σ' must be evaluated at z, which
  equals a(1 − a) computed from the activation itself, never σ(a)(1 − σ(a)).
* Its δ⁽ᴸ⁾ = a⁽ᴸ⁾ − y drops the factor σ'(z⁽ᴸ⁾); that form is exact for the
  cross-entropy loss with a sigmoid output, not for the squared error J above.

Rows are samples (batch-first), so W⁽ˡ⁾ x becomes ``x @ W.T`` and the bias
gradient sums over the batch. Run:  python examples/seed_network.py
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
import chainrule.functional as F


def init_params(
    n_in: int, n_hidden: int, n_out: int, rng: np.random.Generator, dtype=np.float32
) -> dict:
    """Xavier-uniform weights (variance 2/(fan_in + fan_out)) break the symmetry; biases are 0."""

    def xavier(fan_out, fan_in):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, size=(fan_out, fan_in))

    return {
        "W1": cr.tensor(xavier(n_hidden, n_in), dtype=dtype, requires_grad=True),
        "b1": cr.tensor(np.zeros(n_hidden), dtype=dtype, requires_grad=True),
        "W2": cr.tensor(xavier(n_out, n_hidden), dtype=dtype, requires_grad=True),
        "b2": cr.tensor(np.zeros(n_out), dtype=dtype, requires_grad=True),
    }


def forward(params: dict, X) -> tuple:
    """Return (a1, a2): the hidden and output activations."""
    a1 = F.sigmoid(F.linear(X, params["W1"], params["b1"]))
    a2 = F.sigmoid(F.linear(a1, params["W2"], params["b2"]))
    return a1, a2


def loss_fn(a2, y):
    """J = 1/(2m) Σ ‖y − a‖²."""
    m = a2.shape[0]
    return 0.5 * F.mse_loss(a2, y, reduction="sum") / m


def manual_gradients(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """The tutorial's backward pass written out with δ, in plain NumPy (for comparison)."""
    W1, b1, W2, b2 = (params[k].data for k in ("W1", "b1", "W2", "b2"))
    m = X.shape[0]
    a1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))
    delta2 = (a2 - y) * a2 * (1 - a2)  # δ⁽²⁾ = (a − y) ⊙ σ'(z⁽²⁾), σ'(z) = a(1 − a)
    delta1 = (delta2 @ W2) * a1 * (1 - a1)  # δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ σ'(z⁽¹⁾)
    return {
        "W2": delta2.T @ a1 / m,  # (1/m) Σ δ⁽²⁾ a⁽¹⁾ᵀ
        "b2": delta2.sum(axis=0) / m,  # (1/m) Σ δ⁽²⁾
        "W1": delta1.T @ X / m,
        "b1": delta1.sum(axis=0) / m,
    }


def train(
    X, y, n_hidden: int = 8, lr: float = 2.0, epochs: int = 5000, seed: int = 0, dtype=np.float32
) -> tuple[dict, list]:
    """Full-batch gradient descent: W := W − α ∂J/∂W for every W and b. Returns (params, losses)."""
    rng = np.random.default_rng(seed)
    params = init_params(X.shape[1], n_hidden, y.shape[1], rng, dtype)
    Xt, yt = cr.tensor(X, dtype=dtype), cr.tensor(y, dtype=dtype)
    losses = []
    for _ in range(epochs):
        _, a2 = forward(params, Xt)
        loss = loss_fn(a2, yt)
        for p in params.values():
            p.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in params.values():
                p.data -= lr * p.grad
        losses.append(loss.item())
    return params, losses


def xor_data():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, y


def regression_data(n: int = 64, seed: int = 0):
    """y = 0.5 + 0.4 sin(x) on [−π, π]: squeezed into (0, 1), the sigmoid output's range."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-np.pi, np.pi, size=(n, 1))
    return X, 0.5 + 0.4 * np.sin(X)


def main() -> None:
    X, y = xor_data()
    params, losses = train(X, y, n_hidden=4, lr=5.0, epochs=3000)
    _, a2 = forward(params, cr.tensor(X))
    print(
        f"XOR: loss {losses[0]:.4f} -> {losses[-1]:.5f}; predictions {np.round(a2.data.ravel(), 3)}"
    )
    X, y = regression_data()
    params, losses = train(X, y, n_hidden=16, lr=2.0, epochs=4000)
    print(f"sine regression: loss {losses[0]:.4f} -> {losses[-1]:.5f}")


if __name__ == "__main__":
    main()
