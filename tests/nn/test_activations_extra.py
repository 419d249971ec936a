"""SiLU, ELU, Softplus, Mish, Hardtanh, PReLU: NumPy references, gradchecks, PyTorch (optional)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from helpers import check_op, make_inputs


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softplus(z, beta=1.0, threshold=20.0):
    return np.where(beta * z > threshold, z, np.log1p(np.exp(beta * z)) / beta)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)])
def test_silu_mish(shape):
    check_op(F.silu, lambda z: z * _sigmoid(z), shape)
    check_op(F.mish, lambda z: z * np.tanh(np.log1p(np.exp(z))), shape)


@pytest.mark.parametrize("alpha", [1.0, 0.3])
def test_elu(alpha):
    check_op(
        lambda z: F.elu(z, alpha), lambda z: np.where(z > 0, z, alpha * (np.exp(z) - 1)), (3, 4)
    )


@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.0, 1.0), (0.5, 20.0)])
def test_softplus(beta, threshold):
    check_op(
        lambda z: F.softplus(z, beta, threshold), lambda z: _softplus(z, beta, threshold), (3, 4)
    )


def test_softplus_and_silu_are_finite_for_huge_inputs():
    z = cr.tensor([-1000.0, 1000.0])
    np.testing.assert_array_equal(F.softplus(z).data, [0.0, 1000.0])
    np.testing.assert_array_equal(F.silu(z).data, [-0.0, 1000.0])


@pytest.mark.parametrize("low,high", [(-1.0, 1.0), (-0.5, 1.5)])
def test_hardtanh(low, high):
    check_op(lambda z: F.hardtanh(z, low, high), lambda z: np.clip(z, low, high), (4, 5))


def test_hardtanh_gradient_is_zero_at_the_corners_as_pytorch():
    z = cr.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    F.hardtanh(z).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "x_shape,w_shape",
    [((3, 4), (4,)), ((2, 3, 5), (3,)), ((2, 3, 2, 2), (1,)), ((6,), (6,)), ((6,), (1,))],
)
def test_prelu(x_shape, w_shape):
    def ref(z, w):
        w = w.reshape((1, -1) + (1,) * (z.ndim - 2)) if z.ndim >= 2 and w.size > 1 else w
        return np.where(z > 0, z, w * z)

    check_op(F.prelu, ref, x_shape, w_shape)


def test_prelu_refuses_a_slope_count_that_is_not_the_channel_count():
    with pytest.raises(ValueError, match=r"\(1,\) or \(4,\)"):
        F.prelu(cr.tensor(np.ones((2, 4))), cr.tensor(np.ones(3)))


def test_modules_validate_and_prelu_registers_its_weight():
    with pytest.raises(ValueError, match="beta"):
        nn.Softplus(beta=0)
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, -1.0)
    layer = nn.PReLU(3, init=0.1)
    assert [(k, v.shape) for k, v in layer.state_dict().items()] == [("weight", (3,))]
    np.testing.assert_allclose(layer.weight.data, 0.1)
    x = make_inputs((2, 3, 4))[0]
    layer.double()
    assert gradcheck(lambda t: layer(t), [x])


def test_modules_match_torch():
    torch = pytest.importorskip("torch")
    cases = [
        (nn.SiLU(), torch.nn.SiLU()),
        (nn.Mish(), torch.nn.Mish()),
        (nn.ELU(0.7), torch.nn.ELU(0.7)),
        (nn.Softplus(2.0, 1.5), torch.nn.Softplus(2.0, 1.5)),
        (nn.Hardtanh(-0.5, 2), torch.nn.Hardtanh(-0.5, 2)),
        (nn.PReLU(3, 0.2), torch.nn.PReLU(3, 0.2)),
        (nn.PReLU(), torch.nn.PReLU()),
    ]
    rng = np.random.default_rng(0)
    for ours, theirs in cases:
        ours.double()
        theirs.double()
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()
        }
        x = rng.normal(size=(4, 3, 5)) * 3
        g = rng.normal(size=x.shape)
        xo, xt = (
            cr.tensor(x, dtype=np.float64, requires_grad=True),
            torch.tensor(x, requires_grad=True),
        )
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
        yo.backward(g)
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-13)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(
                dict(ours.named_parameters())[name].grad, p.grad.numpy(), rtol=1e-10
            )
