"""DatasetBundle (what ``load`` returns), its validation, and the seeded train/test split."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...backend import xp
from ...rng import get_generator
from ..preprocessing import check_finite
from .errors import DataContentError, DatasetNotFoundError

__all__ = ["DatasetBundle", "DatasetInfo", "DatasetNotFoundError"]


@dataclass(frozen=True)
class DatasetInfo:
    """One row of :func:`chainrule.data.datasets.list_datasets`.

    Attributes
    ----------
    name : str
        The name to pass to ``load``.
    task : str
        ``'classification'`` or ``'regression'``.
    description : str
        One line on what the data is.
    source : str
        Where the data comes from (a citation, a package, or "generated").
    available : bool
        Whether ``load(name)`` works on this machine now.
    note : str
        Where the files were found, or what is missing and how to get it.
    """

    name: str
    task: str
    description: str
    source: str
    available: bool
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "task": self.task,
            "description": self.description,
            "source": self.source,
            "available": self.available,
            "note": self.note,
        }


@dataclass
class DatasetBundle:
    """A dataset split into train and test arrays, with what a model needs to know about it.

    Attributes
    ----------
    name : str
        The dataset's name (``'digits'``, ``'mnist1d'``, or a file's stem).
    X_train, X_test : ndarray, float32, shape (N, *input_shape)
        Inputs.
    y_train, y_test : ndarray
        Classification: int64 labels of shape (N,) in ``0 .. num_classes - 1``.
        Regression: float32 targets of shape (N, num_outputs) (always 2-D, so a
        model's (N, 1) output and the targets line up without broadcasting).
    task : str
        ``'classification'`` or ``'regression'``.
    num_classes : int or None
        Number of classes; None for regression.
    input_shape : tuple of int
        Shape of one sample of ``X``, e.g. ``(64,)`` for digits, ``(1, 28, 28)``
        for fashion-mnist.
    image_shape : tuple of int or None
        Channels-first shape for convolutional models when the data has a
        spatial layout: ``(1, 8, 8)`` for digits, ``(1, 40)`` for mnist1d (a
        one-channel signal), ``(1, 28, 28)`` for fashion-mnist. Use
        :meth:`as_images` to reshape ``X``. None otherwise.
    feature_names : list of str or None
    class_names : list of str or None
        ``class_names[k]`` names label ``k``.
    description : str
    source : str
        Citation, package or file path the data came from.
    feature_mean, feature_scale : ndarray or None
        The standardisation already applied to ``X`` (``(X_raw - mean) / scale``
        with training-set statistics), to apply to new raw data at prediction
        time; None when the features were not standardised.
    target_name : str or None
        The target column's name (CSV files with a header).
    notes : list of str
        What the loader decided that a user should know (for example that
        whole-number float targets were read as class labels).
    """

    name: str
    X_train: object
    y_train: object
    X_test: object
    y_test: object
    task: str
    num_classes: int | None
    input_shape: tuple
    image_shape: tuple | None = None
    feature_names: list | None = None
    class_names: list | None = None
    description: str = ""
    source: str = ""
    feature_mean: object = field(default=None, repr=False)
    feature_scale: object = field(default=None, repr=False)
    target_name: str | None = None
    notes: list = field(default_factory=list, repr=False)

    @property
    def num_features(self) -> int:
        """Number of input values per sample (the product of ``input_shape``)."""
        return int(xp.prod(self.input_shape)) if self.input_shape else 1

    @property
    def num_outputs(self) -> int:
        """Units a model's last layer needs: ``num_classes``, or the number of targets."""
        if self.task == "classification":
            return int(self.num_classes)
        return int(self.y_train.shape[1])

    def as_images(self, X):
        """``X`` reshaped to ``(N, *image_shape)`` for a convolutional model."""
        if self.image_shape is None:
            raise ValueError(f"as_images: dataset {self.name!r} has no image_shape")
        return X.reshape((len(X),) + tuple(self.image_shape))

    def train_dataset(self):
        """The training arrays as a :class:`~chainrule.data.TensorDataset`."""
        from ..dataset import TensorDataset

        return TensorDataset(self.X_train, self.y_train)

    def test_dataset(self):
        """The test arrays as a :class:`~chainrule.data.TensorDataset`."""
        from ..dataset import TensorDataset

        return TensorDataset(self.X_test, self.y_test)

    def __repr__(self) -> str:
        kind = f"{self.num_classes} classes" if self.task == "classification" else "regression"
        return (
            f"DatasetBundle(name={self.name!r}, {kind}, train={len(self.X_train)}, "
            f"test={len(self.X_test)}, input_shape={self.input_shape})"
        )


# ---------------------------------------------------------------- validation
def encode_labels(*label_arrays):
    """Map arbitrary class labels to ``0 .. C-1`` consistently across arrays.

    Labels that already are the integers ``0 .. C-1`` are kept (class_names None);
    anything else (strings, gaps, negatives, integral floats) is mapped in sorted
    order and ``class_names`` holds the original values as strings.

    Returns
    -------
    (encoded arrays..., class_names or None, num_classes)
    """
    arrays = [xp.asarray(a).reshape(-1) for a in label_arrays]
    if any(a.dtype.kind == "f" for a in arrays):
        for a in arrays:
            if a.dtype.kind == "f":
                check_finite(a, "class labels")
    if len({a.dtype.kind in "US" for a in arrays}) > 1:
        arrays = [a.astype(str) for a in arrays]
    uniques = xp.unique(xp.concatenate(arrays))
    integer = all(a.dtype.kind in "iub" for a in arrays)
    if integer and xp.array_equal(uniques, xp.arange(len(uniques))):
        encoded = [a.astype(xp.int64) for a in arrays]
        return (*encoded, None, len(uniques))
    encoded = [xp.searchsorted(uniques, a).astype(xp.int64) for a in arrays]
    names = [_label_name(u) for u in uniques]
    return (*encoded, names, len(uniques))


def _label_name(value) -> str:
    if isinstance(value, (float, xp.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def infer_task(y) -> str:
    """'classification' for integer, boolean or string labels, 'regression' for floats."""
    return "classification" if xp.asarray(y).dtype.kind in "iubUS" else "regression"


def finalize(
    name,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    task,
    num_classes=None,
    image_shape=None,
    feature_names=None,
    class_names=None,
    description="",
    source="",
    standardize=False,
) -> DatasetBundle:
    """Validate and convert arrays into a :class:`DatasetBundle`.

    X becomes float32; y int64 (classification, labels checked in range) or
    float32 of shape (N, k) (regression). Optionally standardises X with the
    training statistics.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', received {task!r}")
    X_train = xp.asarray(X_train)
    X_test = xp.asarray(X_test)
    for label, X in (("X_train", X_train), ("X_test", X_test)):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {label} must be numeric, received dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(
                f"{name}: {label} must have shape (N, features...), received {X.shape}"
            )
    for label, X in (("training", X_train), ("test", X_test)):
        if len(X) == 0:
            raise DataContentError(name, f"the {label} split is empty")
    X_train = X_train.astype(xp.float32, copy=False)
    X_test = X_test.astype(xp.float32, copy=False)
    if X_train.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"{name}: X_train and X_test must have the same per-sample shape, received "
            f"{X_train.shape[1:]} and {X_test.shape[1:]}"
        )
    ys = []
    for label, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        y = xp.asarray(y)
        if y.ndim == 0 or len(y) != len(X):
            raise ValueError(
                f"{name}: X_{label} and y_{label} must have the same number of samples, received "
                f"X_{label} shape {X.shape} and y_{label} shape {y.shape}"
            )
        check_finite(X, f"{name}: X_{label}")
        ys.append(y)
    y_train, y_test = ys
    if task == "classification":
        for label, y in (("y_train", y_train), ("y_test", y_test)):
            if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
                raise ValueError(
                    f"{name}: classification labels {label} must have shape (N,), "
                    f"received {y.shape}"
                )
        y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)
        if y_train.dtype.kind not in "iub" or y_test.dtype.kind not in "iub":
            raise TypeError(f"{name}: class labels must be integers, received {y_train.dtype}")
        y_train, y_test = y_train.astype(xp.int64), y_test.astype(xp.int64)
        low = min(y_train.min(initial=0), y_test.min(initial=0))
        high = max(y_train.max(initial=0), y_test.max(initial=0))
        if num_classes is None:
            num_classes = int(high) + 1
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"{name}: class labels must lie in 0..{num_classes - 1}, received values from "
                f"{low} to {high}"
            )
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"{name}: expected {num_classes} class names, received {len(class_names)}"
            )
        if len(xp.unique(y_train)) < 2:
            raise DataContentError(
                name,
                "classification needs at least 2 classes in the "
                f"training split, received only label {int(y_train[0])}",
            )
    else:
        if y_train.dtype.kind not in "biuf" or y_test.dtype.kind not in "biuf":
            raise TypeError(f"{name}: regression targets must be numeric, received {y_train.dtype}")
        y_train = y_train.astype(xp.float32).reshape(len(y_train), -1)
        y_test = y_test.astype(xp.float32).reshape(len(y_test), -1)
        check_finite(y_train, f"{name}: y_train")
        check_finite(y_test, f"{name}: y_test")
        num_classes, class_names = None, None
    mean = scale = None
    if standardize:
        from ..preprocessing import StandardScaler

        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        mean, scale = scaler.mean_, scaler.scale_
    return DatasetBundle(
        name=name,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        task=task,
        num_classes=None if num_classes is None else int(num_classes),
        input_shape=tuple(int(d) for d in X_train.shape[1:]),
        image_shape=None if image_shape is None else tuple(image_shape),
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
        class_names=None if class_names is None else [str(c) for c in class_names],
        description=description,
        source=source,
        feature_mean=mean,
        feature_scale=scale,
    )


def train_test_indices(n: int, test_size: float, seed, labels=None):
    """Seeded train/test index arrays; stratified by ``labels`` when given.

    Each class contributes ``round(n_class * test_size)`` test samples (at least
    one sample of every class stays in training). Both index arrays are shuffled.
    """
    if (
        not isinstance(test_size, (int, float))
        or isinstance(test_size, bool)
        or not 0 < test_size < 1
    ):
        raise ValueError(f"test_size must be a fraction in (0, 1), received {test_size!r}")
    rng = get_generator(seed) if seed is not None else get_generator(0)
    if labels is None:
        order = rng.permutation(n)
        n_test = max(1, round(n * test_size))
        return order[n_test:], order[:n_test]
    train, test = [], []
    for value in xp.unique(labels):
        members = rng.permutation(xp.flatnonzero(labels == value))
        n_test = min(round(len(members) * test_size), len(members) - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    train_idx = rng.permutation(xp.concatenate(train))
    test_idx = rng.permutation(xp.concatenate(test))
    return train_idx, test_idx
