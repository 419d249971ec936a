"""Loss primitives (gradcheck, NumPy references) and loss modules (against PyTorch, optional)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import check_op, make_inputs

REDUCTIONS = ["mean", "sum", "none"]


def _reduce(values, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](values)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_loss(reduction, delta):
    def ref(a, b):
        d = np.abs(a - b)
        return _reduce(np.where(d < delta, 0.5 * d**2, delta * (d - 0.5 * delta)), reduction)

    check_op(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta), ref, (3, 4), (3, 4))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0])
def test_smooth_l1_loss(reduction, beta):
    def ref(a, b):
        d = np.abs(a - b)
        if beta == 0:
            return _reduce(d, reduction)
        return _reduce(np.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta), reduction)

    check_op(
        lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta), ref, (3, 4), (3, 4)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(1)
    p = cr.tensor(rng.uniform(0.05, 0.95, (3, 4)), dtype=np.float64, requires_grad=True)
    y = cr.tensor(rng.uniform(0, 1, (3, 4)), dtype=np.float64, requires_grad=True)
    w = rng.uniform(0.5, 2, (4,)) if weighted else None
    out = F.binary_cross_entropy(p, y, weight=w, reduction=reduction)
    ref = -(y.data * np.log(p.data) + (1 - y.data) * np.log(1 - p.data)) * (1 if w is None else w)
    np.testing.assert_allclose(out.data, _reduce(ref, reduction), rtol=1e-12)
    assert gradcheck(
        lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction), [p, y]
    )


def test_binary_cross_entropy_clamps_the_log_and_refuses_non_probabilities():
    loss = F.binary_cross_entropy(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0])
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


def _soft_reference(z, q, weight, reduction, smoothing):
    classes = z.shape[1]
    q = q * (1 - smoothing) + smoothing / classes
    zl = np.moveaxis(z, 1, -1)
    logp = zl - zl.max(-1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
    w = np.ones(classes) if weight is None else weight
    per = -(np.moveaxis(q, 1, -1) * w * logp).sum(-1)
    return _reduce(per, reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5)])
def test_cross_entropy_with_probability_targets(reduction, weighted, smoothing, shape):
    z, q = make_inputs(shape, shape, seed=2)
    q.data = np.abs(q.data)
    q.data /= q.data.sum(axis=1, keepdims=True)
    w = np.random.default_rng(3).uniform(0.5, 2, shape[1]) if weighted else None
    out = F.cross_entropy(z, q, weight=w, reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(
        out.data, _soft_reference(z.data, q.data, w, reduction, smoothing), rtol=1e-10
    )
    assert gradcheck(
        lambda a, b: F.cross_entropy(
            a, b, weight=w, reduction=reduction, label_smoothing=smoothing
        ),
        [z, q],
    )


def test_one_hot_probabilities_equal_labels():
    z = make_inputs((5, 4), seed=4)[0]
    labels = np.array([0, 3, 1, 1, 2])
    hard = F.cross_entropy(z, labels, label_smoothing=0.1)
    soft = F.cross_entropy(z, np.eye(4)[labels], label_smoothing=0.1)
    np.testing.assert_allclose(soft.data, hard.data, rtol=1e-12)


def test_soft_targets_with_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match="the input's shape"):
        F.cross_entropy(cr.tensor(np.zeros((2, 3))), np.zeros((2, 4)))


def test_loss_modules_validate_their_options():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(TypeError, match="ignore_index"):
        nn.NLLLoss(ignore_index=1.5)


def test_weight_buffers_are_in_the_state_dict():
    assert list(nn.CrossEntropyLoss(weight=[1.0, 2.0]).state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=[2.0]).state_dict()) == ["pos_weight"]


# ------------------------------------------------------------------- against PyTorch (optional)
def _loss_cases(torch):
    rng = np.random.default_rng(0)
    w3 = rng.uniform(0.5, 2, 3)
    labels = np.array([0, 2, 1, 2, -100, 1])
    probs = rng.dirichlet(np.ones(3), size=6)
    return [
        ("MSELoss", {}, rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
        ("L1Loss", {"reduction": "sum"}, rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
        ("HuberLoss", {"delta": 0.7}, rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
        (
            "SmoothL1Loss",
            {"beta": 0.4, "reduction": "none"},
            rng.normal(size=(6, 3)),
            rng.normal(size=(6, 3)),
        ),
        ("SmoothL1Loss", {"beta": 0.0}, rng.normal(size=(6, 3)), rng.normal(size=(6, 3))),
        (
            "CrossEntropyLoss",
            {"weight": w3, "label_smoothing": 0.1},
            rng.normal(size=(6, 3)),
            labels,
        ),
        (
            "CrossEntropyLoss",
            {"weight": w3, "label_smoothing": 0.2},
            rng.normal(size=(6, 3)),
            probs,
        ),
        (
            "CrossEntropyLoss",
            {"reduction": "none"},
            rng.normal(size=(2, 3, 4)),
            rng.integers(0, 3, (2, 4)),
        ),
        ("NLLLoss", {"weight": w3}, np.log(probs), labels),
        (
            "BCELoss",
            {"weight": rng.uniform(0.5, 2, 3)},
            rng.uniform(0.01, 0.99, (6, 3)),
            rng.uniform(0, 1, (6, 3)),
        ),
        (
            "BCEWithLogitsLoss",
            {"pos_weight": w3},
            rng.normal(size=(6, 3)),
            rng.integers(0, 2, (6, 3)) * 1.0,
        ),
    ]


def test_loss_modules_match_torch():
    torch = pytest.importorskip("torch")
    for name, options, x, y in _loss_cases(torch):
        theirs_options = {
            k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in options.items()
        }
        ours, theirs = getattr(nn, name)(**options), getattr(torch.nn, name)(**theirs_options)
        xo = cr.tensor(x, dtype=np.float64, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.tensor(y)
        lo, lt = ours(xo, y), theirs(xt, yt)
        np.testing.assert_allclose(
            lo.data, lt.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=name
        )
        g = np.random.default_rng(1).normal(size=lt.shape)
        lo.backward(g)
        lt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
        assert list(ours.state_dict()) == list(theirs.state_dict()), name
