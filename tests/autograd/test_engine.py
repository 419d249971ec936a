"""The backward engine: ordering, accumulation, un-broadcasting, release, grad mode, anomalies."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.autograd import AnomalyError, GradcheckError, gradcheck, unbroadcast


def test_chain_of_100000_ops_has_no_recursion_limit():
    x = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_diamond_graph_accumulates_each_path_once():
    # y = (x*x) + (x*x*x) → dy/dx = 2x + 3x²
    x = cr.tensor(3.0, dtype=np.float64, requires_grad=True)
    a = x * x
    y = a + a * x
    y.backward()
    assert x.grad == pytest.approx(2 * 3 + 3 * 9)


def test_leaf_gradients_accumulate_until_zero_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad, [6, 6])
    w.zero_grad()
    assert w.grad is None


def _float64(shape, seed, requires_grad=True):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal(shape), dtype=np.float64, requires_grad=requires_grad)


def test_relu_never_overwrites_a_gradient_it_shares():
    # add's backward hands the same array to both branches, so neither ReLU may mask it in place
    x, A, B = _float64((4, 3), 0), _float64((3, 5), 1), _float64((3, 5), 2)
    assert gradcheck(lambda x, A, B: F.relu(x @ A) + F.relu(x @ B), [x, A, B])
    # one product feeding two ReLUs (the engine sums the two paths into a new array)
    assert gradcheck(lambda x, A: F.relu(x @ A) * 2.0 + F.relu(x @ A + 0.5), [x, A])
    # a ReLU of a ReLU, and a ReLU whose input broadcasts
    b = _float64((5,), 3)
    assert gradcheck(lambda x, A, b: F.relu(F.relu(x @ A) - b), [x, A, b])


def test_relu_masks_in_place_only_a_gradient_the_engine_owns():
    x, A, B = _float64((4, 3), 0), _float64((3, 5), 1), _float64((5, 2), 2)
    inner = F.relu(x @ A)       # receives matmul's new array: masked in place
    outer = F.relu(inner @ B)   # receives the caller's array: never written
    g = np.ones(outer.shape)
    outer.backward(g, retain_graph=True)  # retained, so the nodes keep their flags
    assert inner._ctx.owns_grad_output and not outer._ctx.owns_grad_output
    np.testing.assert_array_equal(g, 1.0)
    # and the result is right: gradcheck runs the same graph, inner ReLUs masking in place
    assert gradcheck(lambda x, A, B: F.relu(F.relu(x @ A) @ B), [x, A, B])
    W1, b1, W2 = _float64((5, 3), 3), _float64((5,), 4), _float64((3, 5), 5)
    labels = np.array([0, 2, 1, 1])
    assert gradcheck(
        lambda x, W1, b1, W2: F.cross_entropy(F.linear(F.relu(F.linear(x, W1, b1)), W2), labels),
        [x, W1, b1, W2],
    )


def test_backward_leaves_the_callers_grad_and_the_leaf_grads_apart():
    x, W = _float64((4, 3), 0), _float64((5, 3), 1)
    y = F.relu(F.linear(x, W))
    g = np.ones(y.shape)
    y.backward(g)
    np.testing.assert_array_equal(g, 1.0)  # the caller's array is not masked in place
    expected = (g * (x.data @ W.data.T > 0)).T @ x.data
    np.testing.assert_allclose(W.grad, expected)
    W.grad += 1.0  # a leaf's gradient is its own array: changing it changes nothing else
    np.testing.assert_array_equal(g, 1.0)
    assert not np.shares_memory(x.grad, W.grad)


def test_a_scalar_parameter_gets_an_array_gradient():
    # a 0-d leaf whose gradient is summed back from a broadcast: .grad is an ndarray, usable in
    # place
    s = cr.tensor(np.float32(1.0), requires_grad=True)
    (s * cr.tensor(np.full(4, 10.0, np.float32))).sum().backward()
    assert isinstance(s.grad, np.ndarray) and s.grad.shape == () and s.grad == 40.0
    s.grad *= 0.5
    assert s.grad == 20.0
    # through a ReLU on a 0-d non-leaf, and an accumulation of two 0-d gradients
    a = cr.tensor(np.float32(2.0), requires_grad=True)
    h = a * 1.0
    (F.relu(h) + cr.tensor(np.ones(3, np.float32)) + F.relu(h) * 2.0).sum().backward()
    assert isinstance(a.grad, np.ndarray) and a.grad == 3.0 + 6.0


def test_unbroadcast_sums_added_and_stretched_axes():
    g = np.ones((2, 3, 4))
    assert unbroadcast(g, (4,)).tolist() == [6, 6, 6, 6]
    assert unbroadcast(g, (3, 1)).shape == (3, 1)
    assert unbroadcast(g, (3, 1))[0, 0] == 8
    assert unbroadcast(g, ()).item() == 24


def test_broadcast_gradient_has_input_shape():
    a = cr.tensor(np.ones((3, 1)), requires_grad=True)
    b = cr.tensor(np.ones((1, 4)), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 4))


def test_second_backward_through_released_graph_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4, 8])


def test_backward_on_non_scalar_needs_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar output, received shape \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2, 20])


def test_backward_grad_shape_is_checked():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(2,\), received \(3,\)"):
        y.backward(np.ones(3))


def test_no_grad_records_nothing():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
    assert not y.requires_grad and y._ctx is None
    z = x * 2
    assert z.requires_grad and z._ctx is not None


def test_graph_recorded_only_when_an_input_requires_grad():
    a = cr.tensor([1.0])
    assert (a * 2)._ctx is None


def test_detach_cuts_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 4])


def test_float64_graph_stays_float64_and_float32_is_default():
    x = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = F.sigmoid(x * 2.0 + 1.0).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor(np.zeros(3)).dtype == np.float32
    assert cr.tensor([1, 2]).dtype.kind == "i"
    x32 = cr.tensor([1.0, 2.0], requires_grad=True)
    assert (x32 * 2.5 + np.ones(2)).dtype == np.float32


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating tensors"):
        cr.tensor([1, 2], requires_grad=True)


def test_shape_mismatch_errors_name_both_shapes():
    a, b = cr.tensor(np.ones((2, 3))), cr.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        a + b


def test_nan_is_not_an_error_outside_anomaly_mode():
    x = cr.tensor([np.nan, 1.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    assert np.isnan(y.item())


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_detect_anomaly_names_the_forward_op():
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(AnomalyError, match="Log.forward"):
        x.log()


def test_detect_anomaly_names_the_backward_op():
    x = cr.tensor([0.0, 1.0], dtype=np.float64, requires_grad=True)
    with cr.detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d√x/dx = ∞ at 0
        with pytest.raises(AnomalyError, match="Sqrt.backward"):
            y.backward()


def test_gradcheck_catches_a_wrong_backward():
    from chainrule.autograd import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return (g * self.x,)  # should be 2x

    x = cr.tensor(np.array([1.0, 2.0, 3.0]), dtype=np.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 .* worst element \(2,\)"):
        gradcheck(lambda t: WrongSquare.apply(t), [x])


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * t, [cr.tensor([1.0], requires_grad=True)])


def test_manual_seed_makes_dropout_repeatable():
    x = cr.tensor(np.ones(100))
    cr.manual_seed(3)
    a = F.dropout(x, 0.5).data
    cr.manual_seed(3)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="seed"):
        cr.manual_seed("3")
