"""Optimizers: the first three updates against the textbook formulas, in-place updates,
toy problems, parameter groups, state dicts and argument errors."""

import json
import math

import numpy as np
import pytest

import chainrule.functional as F
from chainrule import nn, optim

THETA0 = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
GRADS = [
    np.array([[0.5, 1.0, -0.2], [0.3, -0.4, 0.0]]),
    np.array([[-0.3, 0.2, 0.1], [0.6, 0.5, -0.7]]),
    np.array([[0.1, 0.4, -0.5], [-0.2, 0.0, 0.9]]),
]


def run_three_steps(make_optimizer):
    """Apply the three fixed gradients; return the parameter after each step."""
    p = nn.Parameter(THETA0.copy(), dtype=np.float64)
    opt = make_optimizer([p])
    data_id = id(p.data)
    history = []
    for g in GRADS:
        p.grad = g.copy()
        opt.step()
        history.append(p.data.copy())
    assert id(p.data) == data_id  # updated in place
    return history


def check(make_optimizer, reference):
    for step, (got, expected) in enumerate(
        zip(run_three_steps(make_optimizer), reference(), strict=True), start=1
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=f"step {step}")


# ------------------------------------------------------------------------ update rules
@pytest.mark.parametrize("maximize", [False, True])
def test_sgd_plain(maximize):
    def reference():
        theta, out = THETA0.copy(), []
        for g in GRADS:
            g = -g if maximize else g
            theta = theta - 0.1 * g
            out.append(theta)
        return out

    check(lambda p: optim.SGD(p, lr=0.1, maximize=maximize), reference)


@pytest.mark.parametrize("nesterov,dampening", [(False, 0.0), (False, 0.3), (True, 0.0)])
def test_sgd_momentum_weight_decay(nesterov, dampening):
    lr, mu, wd = 0.1, 0.9, 0.01

    def reference():
        theta, buf, out = THETA0.copy(), None, []
        for g in GRADS:
            g = g + wd * theta
            # first buffer = gradient
            buf = g.copy() if buf is None else mu * buf + (1 - dampening) * g
            step = g + mu * buf if nesterov else buf
            theta = theta - lr * step
            out.append(theta)
        return out

    check(
        lambda p: optim.SGD(
            p, lr=lr, momentum=mu, dampening=dampening, weight_decay=wd, nesterov=nesterov
        ),
        reference,
    )


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam(amsgrad, weight_decay):
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8

    def reference():
        theta, m, v, vmax, out = THETA0.copy(), 0.0, 0.0, 0.0, []
        for t, g in enumerate(GRADS, start=1):
            g = g + weight_decay * theta
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vmax = np.maximum(vmax, v)
            m_hat = m / (1 - b1 ** t)
            v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
            out.append(theta)
        return out

    got = run_three_steps(
        lambda p: optim.Adam(p, lr=lr, weight_decay=weight_decay, amsgrad=amsgrad)
    )
    # PyTorch's form: eps is added to √v/√(1 − β₂ᵗ), as in the textbook m̂/(√v̂ + eps)
    for a, b in zip(got, reference(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_adam_first_step_is_lr_times_sign():
    (first, *_) = run_three_steps(lambda p: optim.Adam(p, lr=0.01))
    expected = THETA0 - 0.01 * np.sign(GRADS[0]) * (np.abs(GRADS[0]) / (np.abs(GRADS[0]) + 1e-8))
    np.testing.assert_allclose(first, expected, rtol=1e-10)


def test_adamw_decoupled_decay():
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.99, 1e-6, 0.1

    def reference():
        theta, m, v, out = THETA0.copy(), 0.0, 0.0, []
        for t, g in enumerate(GRADS, start=1):
            theta = theta * (1 - lr * wd)  # decay acts on the weights, not the gradient
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            theta = theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
            out.append(theta)
        return out

    got = run_three_steps(lambda p: optim.AdamW(p, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd))
    for a, b in zip(got, reference(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    assert optim.AdamW([nn.Parameter(np.zeros(1))]).defaults["weight_decay"] == 1e-2


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop(centered, momentum):
    lr, alpha, eps, wd = 0.01, 0.9, 1e-8, 0.05

    def reference():
        theta, s, gbar, buf, out = THETA0.copy(), 0.0, 0.0, 0.0, []
        for g in GRADS:
            g = g + wd * theta
            s = alpha * s + (1 - alpha) * g * g
            if centered:
                gbar = alpha * gbar + (1 - alpha) * g
                r = np.sqrt(s - gbar * gbar) + eps
            else:
                r = np.sqrt(s) + eps
            if momentum:
                buf = momentum * buf + g / r
                theta = theta - lr * buf
            else:
                theta = theta - lr * g / r
            out.append(theta)
        return out

    got = run_three_steps(lambda p: optim.RMSprop(p, lr=lr, alpha=alpha, eps=eps, weight_decay=wd,
                                                  momentum=momentum, centered=centered))
    for a, b in zip(got, reference(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9)


def test_adagrad():
    lr, lr_decay, wd, init, eps = 0.1, 0.5, 0.01, 0.2, 1e-10

    def reference():
        theta, acc, out = THETA0.copy(), np.full_like(THETA0, init), []
        for t, g in enumerate(GRADS, start=1):
            g = g + wd * theta
            clr = lr / (1 + (t - 1) * lr_decay)
            acc = acc + g * g
            theta = theta - clr * g / (np.sqrt(acc) + eps)
            out.append(theta)
        return out

    got = run_three_steps(lambda p: optim.Adagrad(p, lr=lr, lr_decay=lr_decay, weight_decay=wd,
                                                  initial_accumulator_value=init, eps=eps))
    for a, b in zip(got, reference(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


# -------------------------------------------------------------- in place, no new arrays
@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda p: optim.Adam(p, amsgrad=True, weight_decay=0.1),
    lambda p: optim.AdamW(p),
    lambda p: optim.RMSprop(p, momentum=0.9, centered=True),
    lambda p: optim.Adagrad(p),
])
def test_state_buffers_are_reused_between_steps(make):
    p = nn.Parameter(THETA0.copy(), dtype=np.float32)
    opt = make([p])
    p.grad = GRADS[0].astype(np.float32)
    opt.step()
    ids = {k: id(v) for k, v in opt.state[p].items() if isinstance(v, np.ndarray)}
    data_id = id(p.data)
    for g in GRADS[1:]:
        p.grad = g.astype(np.float32)
        opt.step()
    assert {k: id(v) for k, v in opt.state[p].items() if isinstance(v, np.ndarray)} == ids
    assert id(p.data) == data_id and p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2, dtype=np.float32)
    opt.step()
    np.testing.assert_array_equal(b.data, 1.0)
    assert b not in opt.state and a in opt.state
    assert not np.allclose(a.data, 1.0)


def test_zero_grad():
    p = nn.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones(3, dtype=np.float32)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, 0)
    opt.zero_grad()
    assert p.grad is None


# ------------------------------------------------------------------------ toy problems
X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=np.float32)


@pytest.mark.parametrize("name,make", [
    ("SGD", lambda p: optim.SGD(p, lr=0.2, momentum=0.9)),
    ("SGD-nesterov", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("Adam", lambda p: optim.Adam(p, lr=0.05)),
    ("Adam-amsgrad", lambda p: optim.Adam(p, lr=0.05, amsgrad=True)),
    ("AdamW", lambda p: optim.AdamW(p, lr=0.05)),
    ("RMSprop", lambda p: optim.RMSprop(p, lr=0.01)),
    ("RMSprop-centered", lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", lambda p: optim.Adagrad(p, lr=0.3)),
])
def test_mlp_learns_xor(name, make):
    model = nn.Sequential(nn.Linear(2, 8, generator=np.random.default_rng(0)), nn.Tanh(),
                          nn.Linear(8, 1, generator=np.random.default_rng(1)))
    opt = make(model.parameters())
    for _ in range(500):
        opt.zero_grad()
        loss = F.mse_loss(model(X_XOR), Y_XOR)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3, f"{name} did not fit XOR: loss {loss.item()}"


def test_closure_is_called_and_returned():
    p = nn.Parameter(np.array([2.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.data, [1.0])  # 2 − 0.25·4


# ------------------------------------------------------------------ parameter groups
def test_param_groups_have_their_own_hyperparameters():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    assert opt.param_groups[1]["momentum"] == 0.5
    a.grad = np.ones(2, dtype=np.float32)
    b.grad = np.ones(2, dtype=np.float32)
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)
    c = nn.Parameter(np.ones(1))
    opt.add_param_group({"params": c, "lr": 0.5})
    assert opt.param_groups[2]["params"] == [c] and opt.param_groups[2]["momentum"] == 0.5


# ----------------------------------------------------------------------- state dicts
def _split_arrays(obj, arrays, path="s"):
    """Replace arrays by references: what a JSON+safetensors writer would do."""
    if isinstance(obj, np.ndarray):
        arrays[path] = obj
        return {"__array__": path}
    if isinstance(obj, dict):
        return {str(k): _split_arrays(v, arrays, f"{path}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_split_arrays(v, arrays, f"{path}.{i}") for i, v in enumerate(obj)]
    assert isinstance(obj, (int, float, bool, str, type(None))), type(obj)
    return obj


def _join_arrays(obj, arrays):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[obj["__array__"]]
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.01, betas=(0.8, 0.9)),
    lambda p: optim.RMSprop(p, momentum=0.3, centered=True),
    lambda p: optim.Adagrad(p, lr_decay=0.1),
])
def test_state_dict_round_trip_through_json(make):
    def model_and_opt():
        model = nn.Sequential(nn.Linear(3, 4, generator=np.random.default_rng(0)), nn.Tanh(),
                              nn.Linear(4, 1, generator=np.random.default_rng(1)))
        return model, make(model.parameters())

    x = np.random.default_rng(2).normal(size=(8, 3)).astype(np.float32)
    y = np.random.default_rng(3).normal(size=(8, 1)).astype(np.float32)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()

    model_a, opt_a = model_and_opt()
    train(model_a, opt_a, 3)
    arrays = {}
    text = json.dumps(_split_arrays(opt_a.state_dict(), arrays))  # only JSON types and arrays
    assert set(json.loads(text)["state"]) == {"0", "1", "2", "3"}
    assert json.loads(text)["param_groups"][0]["params"] == [0, 1, 2, 3]

    model_b, opt_b = model_and_opt()
    model_b.load_state_dict(model_a.state_dict())
    opt_b.load_state_dict(_join_arrays(json.loads(text), arrays))
    train(model_a, opt_a, 2)
    train(model_b, opt_b, 2)
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"]


def test_state_dict_is_a_copy_and_load_checks_sizes():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2, dtype=np.float32)
    opt.step()
    state = opt.state_dict()
    state["state"][0]["momentum_buffer"][...] = 99
    assert opt.state[p]["momentum_buffer"][0] == 1
    other = optim.SGD([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="parameter group 0 has 2 parameters, the saved one 1"):
        other.load_state_dict(opt.state_dict())


# ---------------------------------------------------------------------------- errors
def params():
    return [nn.Parameter(np.ones(2))]


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: optim.SGD(params(), lr=-0.1), r"SGD: lr must be in \[0.0, inf\), received -0.1"),
        (lambda: optim.SGD(params(), momentum=-1), "SGD: momentum must be in"),
        (
            lambda: optim.SGD(params(), nesterov=True),
            "nesterov=True requires momentum > 0 and dampening = 0",
        ),
        (lambda: optim.SGD(params(), momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda: optim.Adam(params(), lr=-1), "Adam: lr must be"),
        (
            lambda: optim.Adam(params(), betas=(0.9, 1.0)),
            r"Adam: betas\[1\] must be in \[0.0, 1.0\), received 1.0",
        ),
        (lambda: optim.Adam(params(), betas=(-0.1, 0.9)), r"betas\[0\]"),
        (lambda: optim.Adam(params(), eps=-1e-8), "Adam: eps must be"),
        (lambda: optim.AdamW(params(), weight_decay=-1), "AdamW: weight_decay must be"),
        (lambda: optim.RMSprop(params(), alpha=-0.5), "RMSprop: alpha must be"),
        (lambda: optim.Adagrad(params(), lr_decay=-1), "Adagrad: lr_decay must be"),
        (
            lambda: optim.Adagrad(params(), initial_accumulator_value=-1),
            "initial_accumulator_value",
        ),
        (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
        (
            lambda: optim.SGD([{"params": params(), "lr": -2.0}], lr=0.1),
            "lr must be .* received -2.0",
        ),
    ],
)
def test_bad_hyperparameters_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unknown_hyperparameter_raises_type_error_naming_it():
    with pytest.raises(TypeError, match="lrate"):
        optim.SGD(params(), lrate=0.1)
    with pytest.raises(TypeError, match="unknown hyperparameter 'betas'"):
        optim.SGD([{"params": params(), "betas": (0.9, 0.99)}], lr=0.1)
    with pytest.raises(TypeError, match="'momentum'"):
        optim.Adam(params(), momentum=0.9)
    with pytest.raises(TypeError, match="lr must be a number, received str"):
        optim.Adam(params(), lr="0.1")


def test_parameter_given_twice_raises():
    p, q = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [q, p]}])
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


def test_bad_params_argument():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(nn.Parameter(np.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match=r"params\[1\] must be a Parameter"):
        optim.SGD([nn.Parameter(np.ones(2)), np.ones(2)], lr=0.1)
    assert math.isclose(optim.SGD(params()).defaults["lr"], 1e-3)
