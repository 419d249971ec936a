"""Small preprocessing helpers: feature standardisation and one-hot encoding."""

from __future__ import annotations

from ..backend import DEFAULT_FLOAT, xp
from ..tensor import Tensor

__all__ = ["StandardScaler", "one_hot", "standardize"]


def _float_features(X, argument: str):
    X = X.data if isinstance(X, Tensor) else xp.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{argument}: expected numeric features, received dtype {X.dtype}")
    if X.dtype.kind != "f":
        X = X.astype(DEFAULT_FLOAT)
    if X.ndim < 1:
        raise ValueError(f"{argument}: expected an array of shape (N, ...), received a scalar")
    return X


def _safe_scale(std):
    """Standard deviations with zeros (constant features) replaced by 1, as scikit-learn does."""
    std = xp.array(std, copy=True)
    std[~(std > 10 * xp.finfo(std.dtype).eps)] = 1
    return std


def standardize(X, mean=None, std=None):
    """Centre and scale features: ``Z = (X - mean) / std`` per feature (over axis 0).

    Parameters
    ----------
    X : array_like, shape (N, ...)
        Features; integer input becomes float32, floating input keeps its dtype.
    mean, std : array_like, shape X.shape[1:], optional
        Statistics to apply, e.g. those of the training set when standardising a
        test set. When None they are computed from ``X``. A zero ``std``
        (a constant feature) is treated as 1, so the feature becomes 0.

    Returns
    -------
    Z : ndarray, shape (N, ...)
    mean : ndarray, shape X.shape[1:]
    std : ndarray, shape X.shape[1:]
        The statistics used (``std`` after the zero guard), to reuse on other data.

    Examples
    --------
    >>> import numpy as np
    >>> Z, mean, std = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> Z
    array([[-1.,  0.],
           [ 1.,  0.]])
    """
    X = _float_features(X, "standardize: X")
    mean = X.mean(axis=0) if mean is None else xp.asarray(mean, dtype=X.dtype)
    std = _safe_scale(X.std(axis=0) if std is None else xp.asarray(std, dtype=X.dtype))
    if mean.shape != X.shape[1:] or std.shape != X.shape[1:]:
        raise ValueError(
            f"standardize: mean and std must have the per-sample shape {X.shape[1:]}, "
            f"received {mean.shape} and {std.shape}"
        )
    return ((X - mean) / std).astype(X.dtype, copy=False), mean, std


class StandardScaler:
    """Standardise features with statistics learned by :meth:`fit` (scikit-learn's API).

    ``transform(X) = (X - mean_) / scale_``, where ``scale_`` is the standard
    deviation with zeros replaced by 1.

    Parameters
    ----------
    with_mean : bool
        Subtract the mean.
    with_std : bool
        Divide by the standard deviation.

    Attributes
    ----------
    mean_ : ndarray, shape (n_features, ...)
    scale_ : ndarray, shape (n_features, ...)
    var_ : ndarray, shape (n_features, ...)
    n_features_in_ : int
    n_samples_seen_ : int

    Examples
    --------
    >>> import numpy as np
    >>> scaler = StandardScaler().fit(np.array([[0.0], [2.0]]))
    >>> scaler.mean_, scaler.scale_
    (array([1.]), array([1.]))
    >>> scaler.transform(np.array([[4.0]]))
    array([[3.]])
    """

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None) -> StandardScaler:
        """Learn ``mean_``, ``var_`` and ``scale_`` from ``X`` of shape (N, ...)."""
        X = _float_features(X, "StandardScaler.fit: X")
        if len(X) == 0:
            raise ValueError("StandardScaler.fit: X has no samples (shape " + str(X.shape) + ")")
        self.n_samples_seen_ = len(X)
        self.n_features_in_ = X.shape[1] if X.ndim > 1 else 1
        self.mean_ = X.mean(axis=0) if self.with_mean else xp.zeros(X.shape[1:], X.dtype)
        self.var_ = X.var(axis=0)
        self.scale_ = (
            _safe_scale(xp.sqrt(self.var_)) if self.with_std else xp.ones(X.shape[1:], X.dtype)
        )
        return self

    def _check_fitted(self, X, method: str):
        if not hasattr(self, "scale_"):
            raise ValueError(
                f"StandardScaler.{method}: this scaler is not fitted yet; call fit(X) first"
            )
        X = _float_features(X, f"StandardScaler.{method}: X")
        if X.shape[1:] != self.scale_.shape:
            raise ValueError(
                f"StandardScaler.{method}: X has per-sample shape {X.shape[1:]}, but the scaler "
                f"was fitted on {self.scale_.shape}"
            )
        return X

    def transform(self, X):
        """``(X - mean_) / scale_``, in the dtype of ``X`` (integers become float32)."""
        X = self._check_fitted(X, "transform")
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        """``Z * scale_ + mean_``: undo :meth:`transform`."""
        Z = self._check_fitted(Z, "inverse_transform")
        return (Z * self.scale_ + self.mean_).astype(Z.dtype, copy=False)


def one_hot(labels, num_classes: int | None = None, dtype=None):
    """One-hot encode integer class labels.

    ``out[..., c] = 1 if labels[...] == c else 0``.

    Parameters
    ----------
    labels : array_like of int or Tensor, shape (...)
        Class indices in ``0 .. num_classes - 1``.
    num_classes : int, optional
        Number of classes; ``labels.max() + 1`` when None (as PyTorch's -1).
    dtype : dtype, optional
        Output dtype; int64 by default, as in PyTorch (pass ``numpy.float32`` for
        regression-style targets).

    Returns
    -------
    ndarray or Tensor, shape (..., num_classes)
        A Tensor when ``labels`` is a Tensor, otherwise an ndarray.

    Examples
    --------
    >>> one_hot([0, 2], num_classes=3)
    array([[1, 0, 0],
           [0, 0, 1]])
    """
    as_tensor = isinstance(labels, Tensor)
    array = labels.data if as_tensor else xp.asarray(labels)
    if array.dtype.kind not in "iu":
        if array.dtype.kind == "f" and array.size and xp.all(xp.mod(array, 1) == 0):
            array = array.astype(xp.int64)
        elif array.size:
            raise TypeError(f"one_hot: expected integer class labels, received dtype {array.dtype}")
        else:
            array = array.astype(xp.int64)
    if array.size and array.min() < 0:
        raise ValueError(f"one_hot: labels must be non-negative, received minimum {array.min()}")
    if num_classes is None or num_classes == -1:
        num_classes = int(array.max()) + 1 if array.size else 0
    elif (
        not isinstance(num_classes, (int, xp.integer))
        or isinstance(num_classes, bool)
        or num_classes < 1
    ):
        raise ValueError(f"one_hot: num_classes must be a positive int, received {num_classes!r}")
    elif array.size and array.max() >= num_classes:
        raise ValueError(
            f"one_hot: labels must be < num_classes={num_classes}, received maximum {array.max()}"
        )
    out = (array[..., None] == xp.arange(num_classes)).astype(xp.int64 if dtype is None else dtype)
    return Tensor(out, dtype=out.dtype) if as_tensor else out


def check_finite(array, label: str) -> None:
    """Raise ValueError saying how many values are NaN/inf and where the first one is."""
    bad = ~xp.isfinite(array)
    count = int(bad.sum())
    if count:
        first = tuple(int(i) for i in xp.argwhere(bad)[0])
        where = f"sample {first[0]}" + (f", position {first[1:]}" if len(first) > 1 else "")
        raise ValueError(
            f"{label} contains {count} NaN or infinite value{'s' if count > 1 else ''}; "
            f"the first is at {where} (value {array[first]})"
        )
