"""The small datasets bundled with scikit-learn: digits, iris, wine, breast-cancer.

scikit-learn is imported lazily, inside the loaders: it is an optional dependency.
"""

from __future__ import annotations

from ...backend import xp
from ._bundle import finalize, train_test_indices

__all__ = ["SKLEARN_SETS", "load_sklearn_set", "sklearn_available"]

# name -> (sklearn loader, description, source, standardise by default)
SKLEARN_SETS = {
    "digits": (
        "load_digits",
        "8x8 grey-scale images of handwritten digits 0-9 "
        "(1797 samples, 64 pixels scaled to [0, 1])",
        "UCI Optical Recognition of Handwritten Digits, via scikit-learn's bundled copy",
        False,
    ),
    "iris": (
        "load_iris",
        "Iris flowers: 4 measurements, 3 species (150 samples, standardised)",
        "Fisher (1936), UCI Iris, via scikit-learn's bundled copy",
        True,
    ),
    "wine": (
        "load_wine",
        "Wine: 13 chemical measurements, 3 cultivars (178 samples, standardised)",
        "UCI Wine recognition, via scikit-learn's bundled copy",
        True,
    ),
    "breast-cancer": (
        "load_breast_cancer",
        "Breast cancer Wisconsin (diagnostic): 30 features, malignant/benign (569, standardised)",
        "UCI Breast Cancer Wisconsin (Diagnostic), via scikit-learn's bundled copy",
        True,
    ),
}


def sklearn_available() -> bool:
    """True when scikit-learn is installed (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


def load_sklearn_set(name: str, *, seed=0, test_size=0.2, standardize=None):
    """Load one of :data:`SKLEARN_SETS` with a seeded, stratified train/test split.

    Features are standardised with the training statistics for iris, wine and
    breast-cancer (``standardize=None`` means the set's default); digits pixels
    are divided by 16 so they lie in [0, 1].
    """
    function_name, description, source, standardize_default = SKLEARN_SETS[name]
    try:
        import sklearn.datasets
    except ImportError as error:
        raise ImportError(
            f"dataset {name!r} comes with scikit-learn, which is not installed; "
            "install it with `pip install scikit-learn` (or `pip install chainrule[sklearn]`)"
        ) from error
    raw = getattr(sklearn.datasets, function_name)()
    X = xp.asarray(raw.data, dtype=xp.float64)
    y = xp.asarray(raw.target, dtype=xp.int64)
    feature_names = getattr(raw, "feature_names", None)
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(X.shape[1])]
    image_shape = None
    if name == "digits":
        X = X / 16.0
        image_shape = (1, 8, 8)
    train, test = train_test_indices(len(X), test_size, seed, labels=y)
    return finalize(
        name,
        X[train],
        y[train],
        X[test],
        y[test],
        task="classification",
        num_classes=len(raw.target_names),
        image_shape=image_shape,
        feature_names=[str(f) for f in feature_names],
        class_names=[str(c) for c in raw.target_names],
        description=description,
        source=source,
        standardize=standardize_default if standardize is None else standardize,
    )
