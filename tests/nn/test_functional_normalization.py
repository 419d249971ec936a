"""The functional primitives behind the normalisation and embedding layers."""

import numpy as np
import pytest

import chainrule.functional as F
from chainrule.autograd import gradcheck
from helpers import make_inputs


def test_batch_norm_without_affine_or_running_stats():
    (x,) = make_inputs((5, 2, 3))
    out = F.batch_norm(x, training=True)
    mean, var = x.data.mean(axis=(0, 2), keepdims=True), x.data.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(out.data, (x.data - mean) / np.sqrt(var + 1e-5), rtol=1e-10)
    assert gradcheck(lambda t: F.batch_norm(t, training=True), [x])


def test_batch_norm_updates_given_buffers_in_place():
    (x,) = make_inputs((6, 3))
    running_mean, running_var = np.zeros(3), np.ones(3)
    ids = id(running_mean), id(running_var)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.5)
    np.testing.assert_allclose(running_mean, 0.5 * x.data.mean(axis=0))
    np.testing.assert_allclose(running_var, 0.5 + 0.5 * x.data.var(axis=0, ddof=1))
    assert (id(running_mean), id(running_var)) == ids
    before = running_mean.copy()
    F.batch_norm(x, running_mean, running_var, training=False)  # evaluation leaves them alone
    np.testing.assert_array_equal(running_mean, before)


def test_batch_norm_errors():
    (x,) = make_inputs((4, 3))
    with pytest.raises(ValueError, match=r"expected weight of shape \(3,\), received \(2,\)"):
        F.batch_norm(x, weight=np.ones(2), training=True)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.batch_norm(make_inputs((4,))[0], training=True)


def test_layer_norm_without_affine_gradcheck():
    (x,) = make_inputs((3, 2, 4))
    assert gradcheck(lambda t: F.layer_norm(t, (2, 4)), [x])
    out = F.layer_norm(x, 4)
    np.testing.assert_allclose(out.data.mean(axis=-1), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match=r"last dimensions are \(3,\)"):
        F.layer_norm(x, 3)


def test_embedding_functional():
    (w,) = make_inputs((4, 2))
    out = F.embedding(np.array([3, 0, 3]), w)
    np.testing.assert_array_equal(out.data, w.data[[3, 0, 3]])
    assert gradcheck(lambda t: F.embedding(np.array([[3, 0], [3, 1]]), t), [w])
    with pytest.raises(ValueError, match=r"index 4 is out of range; expected indices in \[0, 4\)"):
        F.embedding(np.array([4]), w)
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(np.array([0.5]), w)
