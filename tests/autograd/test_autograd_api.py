"""Tensor hooks, retain_grad, grad_fn and autograd.grad, against closed-form gradients."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import RemovableHandle


def _leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), dtype=np.float64, requires_grad=True)


def test_leaf_hook_fires_once_per_backward_with_the_summed_gradient():
    w = _leaf([1.0, 2.0])
    seen = []
    handle = w.register_hook(lambda g: seen.append(g.data.copy()))
    assert isinstance(handle, RemovableHandle)
    (w * w + 3 * w).sum().backward()  # two paths into w: one call, with 2w + 3
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    (w * 2).sum().backward()
    assert len(seen) == 2


def test_a_hook_returning_zeros_zeroes_the_gradient():
    w = _leaf([1.0, 2.0])
    w.register_hook(lambda g: g * 0)
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
    # on a non-leaf, the replacement is what flows on
    v = _leaf([1.0, 2.0])
    h = v * 3
    h.register_hook(lambda g: cr.zeros_like(g))
    (h * h).sum().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 0.0])


def test_a_hook_can_scale_a_non_leaf_gradient():
    w = _leaf([1.0, 2.0])
    h = w * w
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(w.grad, 10 * 2 * w.data)


def test_a_removed_hook_never_fires_again():
    w = _leaf([1.0])
    calls = []
    handle = w.register_hook(lambda g: calls.append(1))
    other = w.register_hook(lambda g: calls.append(2))
    handle.remove()
    handle.remove()  # idempotent
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    assert calls == [2, 2]
    with other:
        pass  # a context manager removes on exit
    (w * 2).sum().backward()
    assert calls == [2, 2]


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).register_hook(print)
    w = _leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="callable"):
        w.register_hook(3)
    w.register_hook(lambda g: np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        (w * 1).sum().backward()


def test_retain_grad_keeps_a_non_leaf_gradient():
    w = _leaf([1.0, -2.0])
    h = w * 3
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)  # ∂Σh²/∂h = 2h
    np.testing.assert_allclose(w.grad, 6 * h.data)
    plain = w * 3
    (plain * 1).sum().backward()
    assert plain.grad is None


def test_grad_fn_names_the_node_and_links_to_the_inputs():
    w = _leaf([1.0])
    y = (w * 2).exp()
    assert w.grad_fn is None and w.is_leaf
    assert y.grad_fn.name() == "ExpBackward"
    ((mul, _),) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward"
    assert "grad_fn=<ExpBackward>" in repr(y)


def test_autograd_grad_returns_gradients_without_touching_grad():
    x = _leaf([1.0, 2.0, 3.0])
    w = _leaf([0.5, -1.0, 2.0])
    y = (x * x * w).sum()  # ∂/∂x = 2xw, ∂/∂w = x²
    dx, dw = cr.autograd.grad(y, [x, w])
    np.testing.assert_allclose(dx.data, 2 * x.data * w.data)
    np.testing.assert_allclose(dw.data, x.data ** 2)
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="freed"):
        cr.autograd.grad(y, [x])


def test_autograd_grad_with_grad_outputs_intermediates_and_several_outputs():
    x = _leaf([1.0, 2.0])
    h = x * 3
    y = h * h
    v = np.array([1.0, -1.0])
    (dh,) = cr.autograd.grad(y, h, grad_outputs=v, retain_graph=True)
    np.testing.assert_allclose(dh.data, 2 * h.data * v)
    # Σₖ of two outputs: d(Σh + Σy)/dx = 3 + 18x
    (dx,) = cr.autograd.grad([h.sum(), y.sum()], [x])
    np.testing.assert_allclose(dx.data, 3 + 18 * x.data)


def test_autograd_grad_errors():
    x, unused = _leaf([1.0]), _leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        cr.autograd.grad(y, [x, unused], retain_graph=True)
    dx, du = cr.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)
    assert du is None and dx.item() == 2.0
    with pytest.raises(NotImplementedError, match="create_graph"):
        cr.autograd.grad(y, x, create_graph=True)
    pair = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar"):
        cr.autograd.grad(pair * 2, pair)
    with pytest.raises(TypeError, match=r"inputs\[0\] must be a Tensor"):
        cr.autograd.grad(y, [np.ones(1)])


def test_backward_accepts_pytorch_argument_names():
    x = _leaf([1.0, 2.0])
    (x * 2).backward(gradient=cr.tensor([1.0, 1.0], dtype=np.float64))
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    (x * 2).backward(grad=np.array([1.0, 0.0]))
    np.testing.assert_allclose(x.grad, [4.0, 2.0])


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # the anomaly itself
def test_detect_anomaly_still_names_the_op():
    x = _leaf([0.0])
    with cr.autograd.detect_anomaly(), pytest.raises(cr.autograd.AnomalyError, match="Log"):
        x.log()


def test_grad_against_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).normal(size=(3, 4))
    x = _leaf(data)
    (dx,) = cr.autograd.grad((x.tanh() * x).sum(), x)
    tx = torch.tensor(data, requires_grad=True)
    (tdx,) = torch.autograd.grad((tx.tanh() * tx).sum(), tx)
    np.testing.assert_allclose(dx.data, tdx.numpy(), rtol=1e-12)
