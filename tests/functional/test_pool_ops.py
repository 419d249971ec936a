"""Pools: forward against nested-loop references, float64 gradchecks, the argmax rule, bad input."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck
from helpers import make_inputs


def reference_pool2d(x, kernel, stride, padding, dilation, reduce):
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    fill = -np.inf if reduce is np.max else 0.0
    xp = np.full((N, C, H + 2 * ph, W + 2 * pw), fill)
    xp[:, :, ph:ph + H, pw:pw + W] = x
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            window = xp[
                :,
                :,
                i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                j * sw : j * sw + dw * (kw - 1) + 1 : dw,
            ]
            y[:, :, i, j] = reduce(window, axis=(2, 3))
    return y


POOL_CASES = [  # kernel, stride, padding, dilation
    ((2, 2), None, (0, 0), (1, 1)),
    ((3, 3), (2, 2), (1, 1), (1, 1)),
    ((3, 2), (1, 2), (1, 0), (1, 1)),
    ((2, 2), (1, 1), (1, 1), (2, 2)),
]


@pytest.mark.parametrize("kernel, stride, padding, dilation", POOL_CASES)
def test_max_pool2d_matches_reference_and_gradcheck(kernel, stride, padding, dilation):
    (x,) = make_inputs((2, 3, 7, 6), seed=sum(kernel))
    y = F.max_pool2d(x, kernel, stride, padding, dilation)
    expected = reference_pool2d(x.data, kernel, stride or kernel, padding, dilation, np.max)
    np.testing.assert_array_equal(y.data, expected)
    assert gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation), [x])


@pytest.mark.parametrize("kernel, stride, padding, _", POOL_CASES[:3])
def test_avg_pool2d_matches_reference_and_gradcheck(kernel, stride, padding, _):
    (x,) = make_inputs((2, 3, 7, 6), seed=sum(kernel))
    y = F.avg_pool2d(x, kernel, stride, padding)
    expected = reference_pool2d(x.data, kernel, stride or kernel, padding, (1, 1), np.mean)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    assert gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding), [x])


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), (3, 1, 1)])
def test_pool1d_match_reference_and_gradcheck(kernel, stride, padding):
    (x,) = make_inputs((2, 3, 9), seed=kernel)
    args = ((1, kernel), (1, stride or kernel), (0, padding), (1, 1))
    for fn, reduce in ((F.max_pool1d, np.max), (F.avg_pool1d, np.mean)):
        y = fn(x, kernel, stride, padding)
        expected = reference_pool2d(x.data[:, :, None], *args, reduce)[:, :, 0]
        np.testing.assert_allclose(y.data, expected, rtol=1e-12)
        assert gradcheck(lambda t, fn=fn: fn(t, kernel, stride, padding), [x])


def test_max_pool_gradient_goes_to_first_argmax_by_hand():
    x = cr.tensor(np.array([[[[1.0, 3.0, 0.0, 0.0],
                              [3.0, 2.0, 0.0, 0.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, [[[[3.0, 0.0]]]])
    y.backward(np.array([[[[5.0, 7.0]]]]))
    # first maximum in row-major window order takes the gradient (ties included)
    np.testing.assert_array_equal(x.grad, [[[[0, 5, 7, 0], [0, 0, 0, 0]]]])


def reference_max_pool2d_grad(x, grad_output, kernel, stride, padding, dilation):
    """δ of each window added to its first argmax (row-major window order), by nested loops."""
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    x_pad = np.full((N, C, H + 2 * ph, W + 2 * pw), -np.inf)
    x_pad[:, :, ph:ph + H, pw:pw + W] = x
    grad_pad = np.zeros_like(x_pad)
    for n in range(N):
        for c in range(C):
            for i in range(grad_output.shape[2]):
                for j in range(grad_output.shape[3]):
                    rows = [i * sh + p * dh for p in range(kh)]
                    cols = [j * sw + q * dw for q in range(kw)]
                    window = x_pad[n, c][np.ix_(rows, cols)]
                    p, q = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    grad_pad[n, c, rows[p], cols[q]] += grad_output[n, c, i, j]
    return grad_pad[:, :, ph:ph + H, pw:pw + W]


@pytest.mark.parametrize("kernel, stride, padding, dilation", POOL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_gradient_with_ties_matches_reference(kernel, stride, padding, dilation, dtype):
    # values in {0, 1, 2}: most windows hold several maxima, and the first one must win
    rng = np.random.default_rng(sum(kernel) + sum(dilation))
    x = cr.tensor(rng.integers(0, 3, size=(2, 3, 7, 6)), dtype=dtype, requires_grad=True)
    y = F.max_pool2d(x, kernel, stride, padding, dilation)
    grad_output = rng.normal(size=y.shape).astype(dtype)
    y.backward(grad_output)
    expected = reference_max_pool2d_grad(
        x.data, grad_output, kernel, stride or kernel, padding, dilation
    )
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


def test_max_pool_non_overlapping_crops_remainder_and_gradchecks():
    # kernel == stride, no padding: 7 × 5 input, 2 × 2 windows → the last row and column are unused
    (x,) = make_inputs((3, 2, 7, 5), seed=4)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(
        y.data, x.data[:, :, :6, :4].reshape(3, 2, 3, 2, 2, 2).max(axis=(3, 5))
    )
    y.backward(np.ones(y.shape))
    assert not x.grad[:, :, 6, :].any() and not x.grad[:, :, :, 4].any()
    assert gradcheck(lambda t: F.max_pool2d(t, 2), [x])
    assert gradcheck(lambda t: F.max_pool1d(t, 3), [make_inputs((2, 3, 10), seed=5)[0]])


def test_max_pool_propagates_nan_like_pytorch():
    x = cr.tensor(np.array([[[1.0, np.nan, 2.0, 0.0]]]))
    np.testing.assert_array_equal(F.max_pool1d(x, 2).numpy(), [[[np.nan, 2.0]]])


def test_overlapping_max_pool_gradients_add_up():
    x = cr.tensor(np.array([[[0.0, 9.0, 1.0, 2.0]]]), requires_grad=True)
    F.max_pool1d(x, 2, stride=1).sum().backward()  # 9 is the max of two windows
    np.testing.assert_array_equal(x.grad, [[[0, 2, 0, 1]]])


def test_avg_pool_counts_padding_by_hand():
    x = cr.tensor(np.ones((1, 1, 2, 2)))
    y = F.avg_pool2d(x, 2, stride=1, padding=1)
    np.testing.assert_allclose(
        y.numpy()[0, 0], [[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]
    )


def reference_adaptive(x, out_h, out_w):
    H, W = x.shape[2:]
    y = np.zeros(x.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        h0, h1 = (i * H) // out_h, -((-(i + 1) * H) // out_h)
        for j in range(out_w):
            w0, w1 = (j * W) // out_w, -((-(j + 1) * W) // out_w)
            y[:, :, i, j] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
    return y


@pytest.mark.parametrize(
    "output_size, expected_hw",
    [(1, (1, 1)), ((2, 3), (2, 3)), ((4, None), (4, 6)), ((5, 4), (5, 4))],
)
def test_adaptive_avg_pool2d(output_size, expected_hw):
    (x,) = make_inputs((2, 3, 7, 6), seed=1)
    y = F.adaptive_avg_pool2d(x, output_size)
    np.testing.assert_allclose(y.data, reference_adaptive(x.data, *expected_hw), rtol=1e-12)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), [x])


def test_global_average_pool_equals_mean():
    x = cr.tensor(np.random.default_rng(0).normal(size=(2, 3, 5, 4)))
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, 1).numpy()[:, :, 0, 0], x.numpy().mean(axis=(2, 3)), rtol=1e-6
    )


def test_pool_bad_input():
    x = cr.tensor(np.ones((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of shape \(N, C, H, W\)"):
        F.max_pool2d(cr.tensor(np.ones((2, 3, 3))), 2)
    with pytest.raises(ValueError, match=r"kernel size 4, received \(1, 2, 3, 3\)"):
        F.max_pool2d(x, 4)
    with pytest.raises(ValueError, match="at most half"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="stride"):
        F.max_pool1d(cr.tensor(np.ones((1, 2, 5))), 2, stride=0)
    with pytest.raises(ValueError, match="output sizes"):
        F.adaptive_avg_pool2d(x, (0, 1))
