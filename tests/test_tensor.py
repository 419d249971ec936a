"""The Tensor API surface: construction, operators, methods, conversions."""

import numpy as np
import pytest

import chainrule as cr


def test_reflected_operators_with_ndarrays_and_numbers():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x + 1.0 - (2.0 / x) + 2 ** x
    assert isinstance(y, cr.Tensor) and y.dtype == np.float32
    y.sum().backward()
    expected = (
        np.array([3.0, 4.0]) + 2.0 / np.array([1.0, 4.0]) + np.log(2) * 2 ** np.array([1.0, 2.0])
    )
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


def test_attributes_and_conversions():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and len(x) == 2 and x.numel() == 6
    assert x.T.shape == (3, 2)
    assert x.sum().item() == 15.0
    assert isinstance(x.numpy(), np.ndarray)
    assert x.double().dtype == np.float64
    assert "tensor(" in repr(x)
    with pytest.raises(ValueError, match="one element"):
        x.item()
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0]


def test_comparisons_return_boolean_tensors():
    x = cr.tensor([1.0, 2.0, 3.0])
    assert (x > 1.5).data.tolist() == [False, True, True]
    assert x.argmax().item() == 2


def test_method_chain_matches_numpy():
    data = np.array([[0.5, -1.0], [2.0, 3.0]])
    x = cr.tensor(data, dtype=np.float64)
    out = x.abs().sqrt().exp().log().clip(0.1, 1.5).pow(2).mean(axis=0)
    np.testing.assert_allclose(
        out.data, (np.clip(np.sqrt(np.abs(data)), 0.1, 1.5) ** 2).mean(axis=0)
    )


def test_object_and_complex_data_rejected():
    with pytest.raises(TypeError, match="numeric"):
        cr.tensor(np.array([object()]))
    with pytest.raises(TypeError, match="complex"):
        cr.tensor(np.array([1j]))


def test_numpy_scalars_do_not_promote_a_float32_graph():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for y in (x * np.float64(2), x / np.float64(3), np.float64(1) + x, x ** np.float64(2)):
        assert y.dtype == np.float32


def test_tensor_from_a_tensor_keeps_its_dtype_and_copies():
    t = cr.tensor([1.0, 2.0], dtype=np.float64)
    u = cr.tensor(t)
    assert u.dtype == np.float64
    u.data[0] = 5
    assert t.data[0] == 1.0
    assert cr.tensor(t, dtype=np.float32).dtype == np.float32


def test_pow_zero_exponent_has_zero_gradient_everywhere():
    z = cr.tensor([0.0, 1.0, -2.0], dtype=np.float64, requires_grad=True)
    (z ** 0).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 0.0])
    b = cr.tensor([0.0, 2.0, 0.0], dtype=np.float64)
    z.grad = None
    (z ** b).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 2.0, 0.0])


def test_cross_entropy_with_every_target_ignored_is_nan_without_warnings():
    import warnings

    import chainrule.functional as F

    logits = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, np.array([-100, -100]))
        nll = F.nll_loss(logits, np.array([-100, -100]))
    assert np.isnan(loss.item()) and np.isnan(nll.item())
