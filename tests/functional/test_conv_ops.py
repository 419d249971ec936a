"""conv1d / conv2d: forward against nested loops, float64 gradchecks, bad input."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import gradcheck
from helpers import make_inputs


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output element at a time; padding is ((top, bottom), (left, right))."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    (top, bottom), (left, right) = padding
    xp = np.zeros((N, C, H + top + bottom, W + left + right))
    xp[:, :, top:top + H, left:left + W] = x
    sh, sw = stride
    dh, dw = dilation
    Ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    Wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    Og = O // groups
    y = np.zeros((N, O, Ho, Wo))
    for n in range(N):
        for o in range(O):
            g = o // Og
            for i in range(Ho):
                for j in range(Wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(Cg):
                        for p in range(kh):
                            for q in range(kw):
                                total += (
                                    w[o, c, p, q]
                                    * xp[n, g * Cg + c, i * sh + p * dh, j * sw + q * dw]
                                )
                    y[n, o, i, j] = total
    return y


def same_padding(kernel, dilation):
    return tuple(
        (d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
        for k, d in zip(kernel, dilation, strict=True)
    )


# (in, out, groups, kernel, stride, padding, dilation)
CONV2D_CASES = [
    (2, 3, 1, (3, 3), (1, 1), 0, (1, 1)),
    (2, 4, 1, (3, 3), (2, 2), 1, (1, 1)),
    (4, 4, 2, (3, 2), (2, 1), (1, 0), (1, 1)),
    (3, 3, 3, (3, 3), (1, 1), "same", (1, 1)),          # depthwise
    (3, 6, 3, (2, 2), (1, 1), 0, (1, 1)),               # depthwise, channel multiplier 2
    (2, 2, 1, (3, 3), (1, 1), "same", (2, 2)),           # dilated 'same'
    (2, 3, 1, (4, 2), (1, 1), "same", (1, 1)),           # even kernel: asymmetric 'same'
    (2, 4, 2, (2, 2), (1, 2), "valid", (2, 1)),
]


@pytest.mark.parametrize("C, O, groups, kernel, stride, padding, dilation", CONV2D_CASES)
def test_conv2d_forward_matches_reference_and_gradcheck(
    C, O, groups, kernel, stride, padding, dilation
):
    x, w, b = make_inputs((2, C, 6, 5), (O, C // groups) + kernel, (O,), seed=len(kernel) + C + O)
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    if padding == "same":
        pads = same_padding(kernel, dilation)
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    else:
        p = (padding, padding) if isinstance(padding, int) else padding
        pads = ((p[0], p[0]), (p[1], p[1]))
    expected = reference_conv2d(x.data, w.data, b.data, stride, pads, dilation, groups)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    if padding == "same":
        assert y.shape[2:] == x.shape[2:]
    assert gradcheck(lambda *t: F.conv2d(*t, stride=stride, padding=padding, dilation=dilation,
                                         groups=groups), [x, w, b])


def test_conv2d_without_bias_gradcheck_and_reference():
    x, w = make_inputs((3, 2, 5, 5), (3, 2, 2, 3), seed=3)
    y = F.conv2d(x, w, stride=(2, 1))
    expected = reference_conv2d(x.data, w.data, None, (2, 1), ((0, 0), (0, 0)), (1, 1), 1)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: F.conv2d(a, b, stride=(2, 1)), [x, w])


def test_conv2d_small_example_by_hand():
    # a 3x3 ramp convolved with a 2x2 kernel [[1, 0], [0, -1]]: each output is x[i, j] - x[i+1, j+1]
    # = -4
    x = cr.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    w = cr.tensor(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]))
    y = F.conv2d(x, w, cr.tensor([0.5]))
    np.testing.assert_array_equal(y.numpy(), np.full((1, 1, 2, 2), -3.5, dtype=np.float32))
    assert y.dtype == np.float32


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [
        (1, 0, 1, 1),
        (2, 1, 1, 1),
        (1, "same", 2, 1),
        (2, 2, 2, 2),
        (1, "valid", 1, 4),
        (1, "same", 1, 1),
    ],
)
def test_conv1d_matches_reference_and_gradcheck(stride, padding, dilation, groups):
    C, O, k = 4, 4, 3 if padding != "same" or dilation != 1 else 4
    x, w, b = make_inputs((2, C, 9), (O, C // groups, k), (O,), seed=k + groups)
    y = F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    if padding == "same":
        pads = ((0, 0),) + same_padding((k,), (dilation,))
    else:
        p = 0 if padding == "valid" else padding
        pads = ((0, 0), (p, p))
    expected = reference_conv2d(x.data[:, :, None], w.data[:, :, None], b.data, (1, stride), pads,
                                (1, dilation), groups)[:, :, 0]
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda *t: F.conv1d(*t, stride=stride, padding=padding, dilation=dilation,
                                         groups=groups), [x, w, b])


def test_conv_gradient_only_for_inputs_that_require_it():
    x = cr.tensor(np.ones((1, 2, 4, 4)))
    w = cr.tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    F.conv2d(x, w).sum().backward()
    assert x.grad is None
    # each tap sees 2x2 output positions
    np.testing.assert_array_equal(w.grad, np.full((3, 2, 3, 3), 4.0))


def test_conv2d_float32_stays_float32():
    x = cr.tensor(np.ones((2, 3, 6, 6)), requires_grad=True)
    w = cr.tensor(np.ones((4, 3, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_conv2d_wrong_channels_names_shapes():
    x, w = cr.tensor(np.ones((2, 4, 8, 8))), cr.tensor(np.ones((8, 3, 3, 3)))
    with pytest.raises(
        ValueError, match=r"conv2d.*expected input of shape \(N, 3, H, W\), received \(2, 4, 8, 8\)"
    ):
        F.conv2d(x, w)


def test_conv2d_input_smaller_than_kernel():
    x, w = cr.tensor(np.ones((2, 3, 2, 8))), cr.tensor(np.ones((8, 3, 3, 3)))
    with pytest.raises(
        ValueError, match=r"smaller than the dilated kernel size 3.*received \(2, 3, 2, 8\)"
    ):
        F.conv2d(x, w)
    F.conv2d(x, w, padding=1)  # padding makes it fit


def test_conv_bad_arguments():
    x, w = cr.tensor(np.ones((1, 4, 8, 8))), cr.tensor(np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="padding='same' requires stride 1"):
        F.conv2d(x, w, stride=2, padding="same", groups=2)
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(x, w, padding="full", groups=2)
    with pytest.raises(ValueError, match="groups"):
        F.conv2d(x, w, groups=0)
    with pytest.raises(ValueError, match="divisible by groups=3"):
        F.conv2d(cr.tensor(np.ones((1, 6, 8, 8))), w, groups=3)
    with pytest.raises(TypeError, match="stride"):
        F.conv2d(x, w, stride=(1, 2, 3), groups=2)
    with pytest.raises(ValueError, match="stride ≥ 1"):
        F.conv2d(x, w, stride=0, groups=2)
    with pytest.raises(ValueError, match="bias of shape"):
        F.conv2d(x, w, cr.tensor(np.ones(3)), groups=2)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, L\)"):
        F.conv1d(x, cr.tensor(np.ones((4, 2, 3))))
