"""Gradcheck (float64) and a NumPy reference for every core primitive, one line each."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck
from helpers import check_op, make_inputs

BROADCAST_PAIRS = [
    ((3, 4), (3, 4)),
    ((2, 3, 4), (4,)),
    ((3, 1), (1, 5)),
    ((2, 1, 4), (3, 1)),
    ((), (2, 3)),
]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
@pytest.mark.parametrize(
    "fn, ref",
    [(F.add, np.add), (F.sub, np.subtract), (F.mul, np.multiply), (F.maximum, np.maximum),
     (F.minimum, np.minimum)],
)
def test_binary_broadcasting(fn, ref, shapes):
    check_op(fn, ref, *shapes)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_div(shapes):
    check_op(F.div, np.divide, *shapes, positive=True)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS[:3])
def test_pow_tensor_exponent(shapes):
    check_op(F.pow, np.power, *shapes, positive=True)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5])
def test_pow_scalar_exponent(exponent):
    check_op(lambda x: x ** exponent, lambda x: x ** exponent, (3, 4), positive=True)


@pytest.mark.parametrize(
    "fn, ref, positive",
    [(F.exp, np.exp, False), (F.log, np.log, True), (F.sqrt, np.sqrt, True), (F.abs, np.abs, False),
     (F.neg, np.negative, False), (F.tanh, np.tanh, False), (F.square, np.square, False)],
)
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_unary(fn, ref, positive, shape):
    check_op(fn, ref, shape, positive=positive)


@pytest.mark.parametrize("lo, hi", [(-0.5, 0.5), (None, 0.3), (-0.3, None)])
def test_clip(lo, hi):
    check_op(lambda x: F.clip(x, lo, hi), lambda x: np.clip(x, lo, hi), (4, 5))


def test_where_broadcasts():
    cond = np.array([[True, False, True, False]])
    check_op(lambda a, b: F.where(cond, a, b), lambda a, b: np.where(cond, a, b), (3, 4), (3, 1))


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (4, 5)),
        ((2, 3, 4), (4, 2)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((2, 1, 3, 4), (3, 4, 2)),
        ((4,), (4,)),
    ],
)
def test_matmul(shapes):
    check_op(F.matmul, np.matmul, *shapes)


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("batch", [(5,), (2, 3)])
def test_linear(with_bias, batch):
    shapes = [batch + (4,), (3, 4)] + ([(3,)] if with_bias else [])

    def ref(x, W, b=None):
        return x @ W.T + (b if b is not None else 0)

    check_op(F.linear, ref, *shapes)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize(
    "fn, ref", [(F.sum, np.sum), (F.mean, np.mean), (F.max, np.max), (F.min, np.min)]
)
def test_reductions(fn, ref, axis, keepdims):
    check_op(
        lambda x: fn(x, axis=axis, keepdims=keepdims),
        lambda x: ref(x, axis=axis, keepdims=keepdims),
        (3, 4, 2),
    )


@pytest.mark.parametrize("unbiased", [False, True])
def test_var(unbiased):
    check_op(
        lambda x: F.var(x, axis=1, unbiased=unbiased),
        lambda x: np.var(x, axis=1, ddof=int(unbiased)),
        (3, 5),
    )


def test_max_ties_send_gradient_to_first_arg_max():
    x = cr.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    y = cr.tensor([5.0, 1.0, 5.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad, [1, 0, 0])


@pytest.mark.parametrize(
    "fn, ref",
    [(F.relu, lambda z: np.maximum(z, 0)),
     (lambda z: F.leaky_relu(z, 0.2), lambda z: np.where(z > 0, z, 0.2 * z)),
     (F.sigmoid, lambda z: 1 / (1 + np.exp(-z))),
     (F.gelu, lambda z: 0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2))))],
)
@pytest.mark.parametrize("shape", [(7,), (3, 4)])
def test_activations(fn, ref, shape):
    check_op(fn, ref, shape)


def test_sigmoid_is_exact_and_quiet_at_extremes():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        x = cr.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float64, requires_grad=True)
        y = F.sigmoid(x)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0], rtol=1e-12)
    assert np.all(np.isfinite(x.grad))
    x32 = cr.tensor([-1000.0, 1000.0])
    np.testing.assert_array_equal(F.sigmoid(x32).data, [0.0, 1.0])


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax(axis):
    check_op(lambda x: F.softmax(x, axis), lambda x: np.exp(_np_log_softmax(x, axis)), (3, 4, 2))
    check_op(lambda x: F.log_softmax(x, axis), lambda x: _np_log_softmax(x, axis), (3, 4, 2))


def test_log_softmax_is_stable_for_huge_logits():
    x = cr.tensor([[1000.0, 0.0, -1000.0]])
    out = F.log_softmax(x, axis=1).data
    np.testing.assert_allclose(out, [[0.0, -1000.0, -2000.0]])


def _np_cross_entropy(z, y, weight=None, smoothing=0.0, reduction="mean", ignore_index=-100):
    n, c = z.shape
    logp = _np_log_softmax(z, 1)
    w = np.ones(c) if weight is None else weight
    losses, denominators = [], []
    for i in range(n):
        if y[i] == ignore_index:
            losses.append(0.0)
            denominators.append(0.0)
            continue
        nll = -w[y[i]] * logp[i, y[i]]
        smooth = -(w * logp[i]).sum() / c
        losses.append((1 - smoothing) * nll + smoothing * smooth)
        denominators.append(w[y[i]])
    losses = np.array(losses)
    if reduction == "mean":
        return losses.sum() / np.sum(denominators)
    if reduction == "sum":
        return losses.sum()
    return losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("ignored", [False, True])
def test_cross_entropy(reduction, weighted, smoothing, ignored):
    y = np.array([0, 2, 1, 2, -100 if ignored else 1])
    weight = np.array([0.5, 2.0, 1.0]) if weighted else None
    kw = {"weight": weight, "reduction": reduction, "label_smoothing": smoothing}
    check_op(lambda z: F.cross_entropy(z, y, **kw),
             lambda z: _np_cross_entropy(z, y, weight, smoothing, reduction), (5, 3))


@pytest.mark.parametrize(
    "y", [[0, 2, 1, 2, 2], [0, 2, 0, 0, 2]], ids=["class-1-ignored", "none-is-1"]
)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_ignore_index_can_be_a_class(y, smoothing):
    # ignore_index=1 lies inside [0, C): samples labelled 1 drop out, the others count as usual
    y = np.array(y)
    check_op(lambda z: F.cross_entropy(z, y, ignore_index=1, label_smoothing=smoothing),
             lambda z: _np_cross_entropy(z, y, smoothing=smoothing, ignore_index=1), (5, 3))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_all_ignored(weighted, smoothing):
    # PyTorch's 'mean' divides by the summed weight of the samples not ignored: 0/0 = NaN here,
    # while the ignored samples' gradients stay exactly 0
    z = cr.tensor(np.ones((2, 3)), dtype=np.float64, requires_grad=True)
    weight = np.array([0.5, 2.0, 1.0]) if weighted else None
    loss = F.cross_entropy(z, np.array([-100, -100]), weight=weight, label_smoothing=smoothing)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(z.grad, 0.0)
    assert F.cross_entropy(z, np.array([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_weights_summing_to_zero():
    # Σ w_{yᵢ} = 1 − 1 = 0 with a nonzero numerator: ±inf, as PyTorch; the ignored row's gradient is
    # 0
    z = cr.tensor(
        [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=np.float64, requires_grad=True
    )
    loss = F.cross_entropy(z, np.array([0, 1, -100]), weight=np.array([1.0, -1.0, 0.0]))
    numerator = np.log((np.exp(2) + 2) / np.exp(2)) - np.log(3)  # 1·(−ℓ₀) − 1·(−ℓ₁) < 0
    assert numerator < 0 and loss.item() == -np.inf
    loss.backward()
    np.testing.assert_array_equal(z.grad[2], 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_keeps_float32(reduction, ignore_index):
    z = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = F.cross_entropy(
        z,
        np.array([0, -100, 1, 2]) if ignore_index == -100 else np.array([0, 1, 1, 2]),
        weight=np.array([1.0, 2.0, 0.5]),
        label_smoothing=0.2,
        reduction=reduction,
        ignore_index=ignore_index,
    )
    assert loss.dtype == np.float32
    (loss.sum() if reduction == "none" else loss).backward()
    assert z.grad.dtype == np.float32


def test_cross_entropy_spatial_targets():
    y = np.array([[0, 1], [2, 0]])
    check_op(lambda z: F.cross_entropy(z, y), None, (2, 3, 2))
    z = make_inputs((2, 3, 2))[0]
    flat = np.moveaxis(z.data, 1, -1).reshape(-1, 3)
    np.testing.assert_allclose(F.cross_entropy(z, y).item(), _np_cross_entropy(flat, y.reshape(-1)))


def test_cross_entropy_worked_example():
    # uniform logits over 3 classes: loss = ln 3, gradient = (1/3 - onehot) / N
    z = cr.tensor(np.zeros((2, 3)), dtype=np.float64, requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 2]))
    loss.backward()
    assert loss.item() == pytest.approx(math.log(3))
    np.testing.assert_allclose(z.grad, (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 2]]) / 2)


def test_cross_entropy_is_stable():
    z = cr.tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([1, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(1e4)
    assert np.all(np.isfinite(z.grad))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    y = np.array([1, 0, 3, 3])
    weight = np.array([1.0, 0.5, 2.0, 3.0]) if weighted else None

    def ref(logp):
        w = np.ones(4) if weight is None else weight
        losses = -w[y] * logp[np.arange(4), y]
        return {"mean": losses.sum() / w[y].sum(), "sum": losses.sum(), "none": losses}[reduction]

    check_op(lambda lp: F.nll_loss(lp, y, weight=weight, reduction=reduction), ref, (4, 4))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_and_l1(reduction):
    red = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
    check_op(
        lambda a, b: F.mse_loss(a, b, reduction=reduction),
        lambda a, b: red((a - b) ** 2),
        (3, 4),
        (3, 4),
    )
    check_op(
        lambda a, b: F.l1_loss(a, b, reduction=reduction),
        lambda a, b: red(np.abs(a - b)),
        (3, 4),
        (3, 4),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "use_weight, use_pos_weight", [(False, False), (True, False), (False, True)]
)
def test_bce_with_logits(reduction, use_weight, use_pos_weight):
    rng = np.random.default_rng(1)
    weight = rng.uniform(0.5, 2, size=(1, 3)) if use_weight else None
    pos_weight = np.array([0.5, 1.0, 3.0]) if use_pos_weight else None

    def ref(x, y):
        p = 1 / (1 + np.exp(-x))
        pw = 1.0 if pos_weight is None else pos_weight
        loss = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p))
        if weight is not None:
            loss = loss * weight
        return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](loss)

    x, y = make_inputs((4, 3), (4, 3), seed=3)
    y.data[...] = rng.uniform(0, 1, size=(4, 3))
    kw = {"weight": weight, "pos_weight": pos_weight, "reduction": reduction}
    out = F.binary_cross_entropy_with_logits(x, y, **kw)
    np.testing.assert_allclose(out.data, ref(x.data, y.data), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kw), [x, y])


def test_bce_with_logits_is_stable():
    x = cr.tensor([1000.0, -1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, -1.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_and_stack(axis):
    check_op(lambda a, b: F.cat([a, b], axis=axis), lambda a, b: np.concatenate([a, b], axis=axis),
             (2, 3, 4), (2, 3, 4))
    check_op(lambda a, b: F.stack([a, b], axis=axis), lambda a, b: np.stack([a, b], axis=axis),
             (2, 3), (2, 3))


@pytest.mark.parametrize(
    "index",
    [1, (slice(None), 2), (slice(0, 3, 2), slice(None, None, -1)), np.array([0, 2, 2, 1]),
     (np.array([0, 1, 1]), np.array([2, 0, 2])), (Ellipsis, None, 1)],
)
def test_getitem(index):
    check_op(lambda x: x[index], lambda x: x[index], (3, 4))


def test_getitem_boolean_mask_and_repeated_indices_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=np.float64, requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])
    x.grad = None
    x[np.array([True, False, True])].sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 1])


@pytest.mark.parametrize(
    "fn, ref",
    [(lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
     (lambda x: x.reshape(-1), lambda x: x.reshape(-1)),
     (lambda x: x.transpose(0, 2), lambda x: np.swapaxes(x, 0, 2)),
     (lambda x: x.T, lambda x: x.T),
     (lambda x: x.permute(1, 2, 0), lambda x: np.transpose(x, (1, 2, 0))),
     (lambda x: x.flatten(1), lambda x: x.reshape(2, -1)),
     (lambda x: x.unsqueeze(1).squeeze(1), lambda x: x),
     (lambda x: F.pad(x, ((0, 0), (1, 2), (0, 1))), lambda x: np.pad(x, ((0, 0), (1, 2), (0, 1)))),
     (lambda x: x.clone(), lambda x: x)],
)
def test_shape_ops(fn, ref):
    check_op(fn, ref, (2, 3, 4))


def test_dropout_scales_and_masks_with_a_generator():
    x = cr.tensor(np.ones((200, 50)), dtype=np.float64, requires_grad=True)
    y = F.dropout(x, p=0.25, generator=np.random.default_rng(0))
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75)
    y2 = F.dropout(x, p=0.25, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(y.data, y2.data)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="p must be in"):
        F.dropout(x, 1.5)
    assert gradcheck(
        lambda t: F.dropout(t, 0.3, generator=np.random.default_rng(5)), make_inputs((4, 3))
    )


def test_gelu_erf_matches_math_erf():
    from chainrule import backend

    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(backend.erf(x), [math.erf(v) for v in x], rtol=1e-14, atol=1e-15)
