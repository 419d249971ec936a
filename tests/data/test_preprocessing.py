"""standardize, StandardScaler and one_hot."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import StandardScaler, one_hot, standardize


def test_standardize_matches_formula_and_guards_constant_features():
    X = np.array([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]], dtype=np.float32)
    Z, mean, std = standardize(X)
    np.testing.assert_allclose(mean, [3.0, 5.0, 2.0])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 1.0, np.sqrt(8 / 3)], rtol=1e-6)
    np.testing.assert_allclose(Z[:, 0], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(Z[:, 1], 0.0)  # constant column: std 0 treated as 1
    assert Z.dtype == np.float32
    # applying training statistics to other data
    Z2, _, _ = standardize(np.array([[3.0, 6.0, 2.0]]), mean, std)
    np.testing.assert_allclose(Z2, [[0.0, 1.0, 0.0]], atol=1e-7)


def test_standardize_rejects_wrong_stat_shape():
    with pytest.raises(ValueError, match="per-sample shape"):
        standardize(np.ones((3, 2)), mean=np.zeros(3), std=np.ones(3))


def test_standard_scaler_round_trip_and_attributes(rng):
    X = rng.normal(3.0, 2.0, size=(200, 4))
    X[:, 2] = 7.0
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0)[[0, 1, 3]], 1.0, rtol=1e-12)
    assert scaler.scale_[2] == 1.0 and scaler.var_[2] == 0.0
    assert scaler.n_features_in_ == 4
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)
    try:
        from sklearn.preprocessing import StandardScaler as SkScaler
    except ImportError:
        return
    np.testing.assert_allclose(Z, SkScaler().fit_transform(X), atol=1e-12)


def test_standard_scaler_errors():
    with pytest.raises(ValueError, match="not fitted"):
        StandardScaler().transform(np.ones((2, 2)))
    scaler = StandardScaler().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"fitted on \(2,\)"):
        scaler.transform(np.ones((3, 3)))


def test_one_hot():
    out = one_hot(np.array([0, 2, 1]))
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert out.dtype == np.int64
    out = one_hot([1], num_classes=4, dtype=np.float32)
    np.testing.assert_array_equal(out, [[0, 1, 0, 0]])
    assert out.dtype == np.float32
    t = one_hot(cr.tensor(np.array([[0, 1]])), num_classes=2)
    assert isinstance(t, cr.Tensor) and t.shape == (1, 2, 2)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="< num_classes=2"):
        one_hot([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="non-negative"):
        one_hot([-1, 0])
    with pytest.raises(TypeError, match="integer class labels"):
        one_hot([0.5, 1.0])
