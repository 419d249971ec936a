"""Adadelta, Adamax, NAdam, RAdam and LBFGS: closed forms for a constant gradient, a quadratic
solved by LBFGS, validation; trajectories against PyTorch (optional)."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim


def _run(opt_class, grad, steps, **kwargs):
    """θ after ``steps`` updates from θ₀ = 1 with the same gradient every step."""
    theta = nn.Parameter(np.ones(3), dtype=np.float64)
    opt = opt_class([theta], **kwargs)
    for _ in range(steps):
        theta.grad = grad.copy()
        opt.step()
    return theta.data


G = np.array([0.5, -2.0, 3.0])


def test_adadelta_closed_form():
    rho, eps, lr = 0.9, 1e-6, 1.0
    theta, v, u = np.ones(3), np.zeros(3), np.zeros(3)
    for _ in range(4):  # the recursion written out with plain NumPy
        v = rho * v + (1 - rho) * G**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * G
        u = rho * u + (1 - rho) * delta**2
        theta = theta - lr * delta
    np.testing.assert_allclose(_run(optim.Adadelta, G, 4), theta, rtol=1e-12)
    # the first step by hand: Δ = √eps / √(0.1 g² + eps) · g
    first = 1 - np.sqrt(eps) / np.sqrt(0.1 * G**2 + eps) * G
    np.testing.assert_allclose(_run(optim.Adadelta, G, 1), first, rtol=1e-12)


def test_adamax_closed_form():
    # constant g: m_t = (1 − β₁ᵗ) g and u_t = |g| + eps, so every step is lr · g / (|g| + eps)
    steps, lr = 5, 0.01
    np.testing.assert_allclose(
        _run(optim.Adamax, G, steps, lr=lr), 1 - steps * lr * G / (np.abs(G) + 1e-8), rtol=1e-12
    )


def test_nadam_closed_form():
    lr, b1, psi, eps, steps = 0.01, 0.9, 4e-3, 1e-8, 4  # β₂ cancels for a constant g
    theta, product = np.ones(3), 1.0
    for t in range(1, steps + 1):  # constant g: m = (1 − β₁ᵗ) g, √(v / (1 − β₂ᵗ)) = |g|
        mu, mu_next = b1 * (1 - 0.5 * 0.96 ** (t * psi)), b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        product *= mu
        d = np.abs(G) + eps
        theta = (
            theta
            - lr * (1 - mu) / (1 - product) * G / d
            - lr * mu_next / (1 - product * mu_next) * (1 - b1**t) * G / d
        )
    np.testing.assert_allclose(_run(optim.NAdam, G, steps, lr=lr), theta, rtol=1e-12)


def test_radam_closed_form():
    lr, b2, eps, steps = 0.01, 0.999, 1e-8, 8
    theta = np.ones(3)
    rho_inf = 2 / (1 - b2) - 1
    for t in range(1, steps + 1):  # constant g: m̂ = g, v = (1 − β₂ᵗ) g²
        bc2 = 1 - b2**t
        rho = rho_inf - 2 * t * b2**t / bc2
        if rho > 5:
            rect = math.sqrt(
                (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
            )
            theta = theta - lr * G * rect * math.sqrt(bc2) / (np.sqrt(bc2) * np.abs(G) + eps)
        else:
            theta = theta - lr * G
    assert rho_inf - 2 * 6 * b2**6 / (1 - b2**6) > 5  # the rectified branch is reached
    np.testing.assert_allclose(_run(optim.RAdam, G, steps, lr=lr), theta, rtol=1e-12)


def test_decoupled_weight_decay_shrinks_the_weights_first():
    # with g = 0 only the decay acts: θ(1 − lr·wd) per step (the Adam part is 0 / (0 + eps) = 0)
    for cls in (optim.NAdam, optim.RAdam):
        out = _run(cls, np.zeros(3), 3, lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
        np.testing.assert_allclose(out, (1 - 0.05) ** 3 * np.ones(3), rtol=1e-12)


def test_new_optimizers_validate_and_are_in_the_name_table():
    w = [nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta(w, rho=1.5)
    with pytest.raises(ValueError, match="betas"):
        optim.Adamax(w, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="momentum_decay"):
        optim.NAdam(w, momentum_decay=-1)
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS(w, line_search_fn="armijo")
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS(w).step()
    for name, cls in [
        ("adadelta", optim.Adadelta),
        ("adamax", optim.Adamax),
        ("nadam", optim.NAdam),
        ("radam", optim.RAdam),
    ]:
        assert type(optim.get_optimizer(name, w)) is cls
    assert "lbfgs" not in optim.OPTIMIZERS  # fit's step passes no closure


def _quadratic(rng):
    a = rng.normal(size=(5, 5))
    return a @ a.T + 5 * np.eye(5), rng.normal(size=5)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_solves_a_quadratic(line_search_fn):
    A, b = _quadratic(np.random.default_rng(0))
    x = nn.Parameter(np.zeros(5), dtype=np.float64)
    opt = optim.LBFGS(
        [x],
        lr=1 if line_search_fn else 0.2,
        max_iter=100,
        line_search_fn=line_search_fn,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
    )

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ cr.tensor(A, dtype=np.float64) @ x) - x @ cr.tensor(b, dtype=np.float64)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert first.item() == 0.0  # step returns the loss at the starting point
    np.testing.assert_allclose(x.data, np.linalg.solve(A, b), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------- against PyTorch (optional)
OPTIMIZERS = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_optimizer_matches_torch_over_twenty_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(3, 4))
    ours = nn.Parameter(theta.copy(), dtype=np.float64)
    theirs = torch.tensor(theta.copy(), requires_grad=True)
    opt_ours = getattr(optim, name)([ours], **kwargs)
    opt_theirs = getattr(torch.optim, name)([theirs], **kwargs)
    default_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's NAdam keeps its μ product in the default dtype
    try:
        for _ in range(20):
            g = rng.normal(size=(3, 4))
            ours.grad = g.copy()
            theirs.grad = torch.tensor(g.copy())
            opt_ours.step()
            opt_theirs.step()
    finally:
        torch.set_default_dtype(default_dtype)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"line_search_fn": "strong_wolfe"},
        {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
    ],
)
def test_lbfgs_matches_torch_on_rosenbrock(kwargs):
    torch = pytest.importorskip("torch")
    start = np.array([-1.5, 2.0])
    ours = nn.Parameter(start.copy(), dtype=np.float64)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    opt_ours, opt_theirs = optim.LBFGS([ours], **kwargs), torch.optim.LBFGS([theirs], **kwargs)

    def rosenbrock(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    def closure_ours():
        opt_ours.zero_grad()
        loss = rosenbrock(ours)
        loss.backward()
        return loss

    def closure_theirs():
        opt_theirs.zero_grad()
        loss = rosenbrock(theirs)
        loss.backward()
        return loss

    for step in range(4):  # Rosenbrock amplifies rounding (2e-16 after one step, ~1e-8 after four)
        lo, lt = opt_ours.step(closure_ours), opt_theirs.step(closure_theirs)
        assert lo.item() == pytest.approx(lt.item(), rel=1e-6, abs=1e-12)
        tolerance = 1e-12 if step < 2 else 1e-6
        np.testing.assert_allclose(
            ours.data, theirs.detach().numpy(), rtol=tolerance, atol=tolerance
        )
    assert opt_ours.state[ours]["func_evals"] == opt_theirs.state[theirs]["func_evals"]
