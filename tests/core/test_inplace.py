"""In-place ops: PyTorch's rules for leaves, grad mode, and the version counter."""

import numpy as np
import pytest

import chainrule as cr


def _leaf(values, requires_grad=True):
    return cr.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64,
                     requires_grad=requires_grad)


def test_tutorial_update_inside_no_grad_changes_the_parameter_in_place():
    # the "Learning PyTorch with Examples" idiom: a -= lr * a.grad under no_grad
    a = _leaf(2.0)
    x = cr.tensor([1.0, 2.0, 3.0], dtype=np.float64)
    ((a * x - x) ** 2).sum().backward()  # d/da Σ(ax − x)² = Σ 2(a − 1)x² = 28
    data_before = a.data
    with cr.no_grad():
        a -= 0.01 * a.grad
    assert a.item() == pytest.approx(2.0 - 0.28)
    assert a.data is data_before and a.is_leaf and a.requires_grad  # same array, still a leaf
    assert a._version == 1


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    a = _leaf([1.0, 2.0])
    for op in (lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(),
               lambda t: t.__isub__(1.0), lambda t: t.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
            op(a)
    np.testing.assert_array_equal(a.data, [1.0, 2.0])


@pytest.mark.parametrize(
    "name, call, expected",
    [
        ("add_", lambda t: t.add_(cr.tensor([1.0, 1.0], dtype=np.float64), alpha=2), [3.0, 0.0]),
        ("sub_", lambda t: t.sub_(0.5), [0.5, -2.5]),
        ("mul_", lambda t: t.mul_(3), [3.0, -6.0]),
        ("div_", lambda t: t.div_(2), [0.5, -1.0]),
        ("zero_", lambda t: t.zero_(), [0.0, 0.0]),
        ("fill_", lambda t: t.fill_(7), [7.0, 7.0]),
        ("copy_", lambda t: t.copy_(np.array([4.0, 5.0])), [4.0, 5.0]),
        ("clamp_", lambda t: t.clamp_(-1, 0.5), [0.5, -1.0]),
        ("iadd", lambda t: t.__iadd__(1), [2.0, -1.0]),
        ("isub", lambda t: t.__isub__(1), [0.0, -3.0]),
        ("imul", lambda t: t.__imul__(-1), [-1.0, 2.0]),
        ("itruediv", lambda t: t.__itruediv__(4), [0.25, -0.5]),
    ],
)
def test_in_place_ops_write_into_the_same_array(name, call, expected):
    t = _leaf([1.0, -2.0], requires_grad=False)
    array = t.data
    assert call(t) is t
    assert t.data is array
    np.testing.assert_array_equal(array, expected)
    assert t._version == 1


def test_zero_and_fill_overwrite_nan():
    t = cr.tensor([np.nan, np.inf])
    np.testing.assert_array_equal(t.zero_().data, [0.0, 0.0])


def test_random_in_place_fills_follow_the_generator():
    a = cr.zeros(1000).normal_(2.0, 0.5, generator=np.random.default_rng(0))
    expected = np.random.default_rng(0).normal(2.0, 0.5, size=1000).astype(np.float32)
    np.testing.assert_array_equal(a.data, expected)
    u = cr.zeros(1000).uniform_(-1, 1, generator=np.random.default_rng(1))
    np.testing.assert_allclose(u.data, np.random.default_rng(1).uniform(-1, 1, 1000), rtol=1e-6)
    cr.manual_seed(3)
    first = cr.zeros(5).normal_().data.copy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(cr.zeros(5).normal_().data, first)


def test_in_place_keeps_dtype_and_shape():
    t = cr.zeros(2, 3)
    t += np.ones((2, 3), dtype=np.float64)  # float64 operand, float32 tensor
    assert t.dtype == np.float32
    with pytest.raises(ValueError, match=r"shape \(2, 3\), which cannot be written.*\(3,\)"):
        cr.zeros(3).add_(cr.zeros(2, 3))
    with pytest.raises(TypeError, match="float64, which cannot be written into a int64 tensor"):
        cr.tensor([1, 2]).add_(0.5)


def test_modifying_a_saved_input_makes_backward_raise_naming_the_op():
    w = _leaf([1.0, 2.0])
    x = cr.tensor([3.0, 4.0], dtype=np.float64)
    y = (w * x).sum()  # Mul saved x for ∂y/∂w
    x.mul_(2)
    with pytest.raises(RuntimeError, match=r"input 1 of Mul.*operation \(mul_\).*version 1"):
        y.backward()


def test_modifying_a_parameter_under_no_grad_then_backward_raises():
    w = _leaf([1.0, 2.0])
    y = (w * w).sum()
    with cr.no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="Mul.*__isub__"):
        y.backward()


def test_modifying_a_saved_output_makes_backward_raise():
    w = _leaf([0.5, 1.0])
    y = w.exp()  # Exp saves its output
    with cr.no_grad():
        y += 1
    with pytest.raises(RuntimeError, match="output 0 of Exp"):
        y.sum().backward()


def test_modifying_through_detach_is_tracked():
    w = _leaf([0.5, 1.0])
    y = w.exp()
    y.detach().zero_()  # shares y's array and its version counter, as in PyTorch
    with pytest.raises(RuntimeError, match="Exp.*zero_"):
        y.sum().backward()


def test_recorded_in_place_on_a_non_leaf_gives_the_right_gradient():
    # h = 2w; h += 1; h *= w  →  y = Σ (2w + 1) w,  dy/dw = 4w + 1
    w = _leaf([1.0, -2.0, 3.0])
    h = w * 2
    h += 1
    h.mul_(w)
    assert h.grad_fn.name() == "MulBackward" and h._version == 2
    h.sum().backward()
    np.testing.assert_allclose(w.grad, 4 * w.data + 1)


def test_in_place_on_a_constant_with_a_grad_operand_records_the_op():
    w = _leaf([1.0, 2.0])
    acc = cr.zeros(2, dtype=np.float64)
    acc += w * w
    acc.sum().backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0])


def test_in_place_on_a_tensor_used_before_raises_instead_of_a_wrong_gradient():
    w = _leaf([1.0, 2.0])
    h = w * 2
    z = h * h
    h += 1
    with pytest.raises(RuntimeError, match="input 0 of Mul.*__iadd__"):
        z.sum().backward()


def test_copy_and_fill_route_gradients_to_the_source():
    w = _leaf([1.0, 2.0, 3.0])
    v = _leaf(5.0)
    h = w * 1
    h.copy_(w * 3)  # ∂/∂w of Σ 3w = 3; the old h gets nothing
    h.sum().backward()
    np.testing.assert_allclose(w.grad, [3.0, 3.0, 3.0])
    w.grad = None
    g = w * 1
    g.fill_(v)
    (g * w).sum().backward()  # Σ v·w: ∂/∂v = Σ w = 6, ∂/∂w = v (through the product only)
    assert v.grad == pytest.approx(6.0)
    np.testing.assert_allclose(w.grad, [5.0, 5.0, 5.0])


def test_setitem_in_place():
    x = cr.zeros(2, 3)
    x[0, 1] = 4.0
    x[x > 3] = -1.0
    x[1] = cr.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.data, [[0, -1, 0], [1, 2, 3]])
    # recorded on a non-leaf: ∂/∂w of Σ(h with h[0] = v) and ∂/∂v
    w = _leaf([1.0, 2.0, 3.0])
    v = _leaf(10.0)
    h = w * 2
    h[0] = v
    (h * h).sum().backward()
    np.testing.assert_allclose(w.grad, [0.0, 16.0, 24.0])  # 2h·2 where not overwritten
    assert v.grad == pytest.approx(20.0)


@pytest.mark.parametrize("view", [lambda x: x[0], lambda x: x.view(4), lambda x: x.t(),
                                  lambda x: x.reshape(2, 2)[:, 1]])
def test_a_write_through_a_view_is_seen_by_the_base(view):
    w = _leaf([[1.0, 2.0], [3.0, 4.0]])
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64)
    y = (w * x).sum()  # Mul saved x
    v = view(x)
    v.mul_(2)  # writes into x's array
    assert x._version == 1
    with pytest.raises(RuntimeError, match="input 1 of Mul.*mul_"):
        y.backward()


def test_a_copy_does_not_share_the_version():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    picked = x[[0, 1], [1, 0]]  # advanced indexing copies
    picked.add_(1)
    assert x._version == 0 and x.data.tolist() == [[1.0, 2.0], [3.0, 4.0]]
