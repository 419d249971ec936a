"""The dataset catalogue: ``load(name_or_path)`` returns a :class:`DatasetBundle`.

Named sets (all offline):

==============  ===============  ==============================================
name            task             from
==============  ===============  ==============================================
digits          classification   scikit-learn's bundled 8x8 digits (default)
iris            classification   scikit-learn (standardised)
wine            classification   scikit-learn (standardised)
breast-cancer   classification   scikit-learn (standardised)
mnist1d         classification   generated from the seed (Greydanus 2020 recipe)
fashion-mnist   classification   IDX files (Debian package dataset-fashion-mnist)
xor             classification   generated
spirals         classification   generated
sine            regression       generated
==============  ===============  ==============================================

A path loads a folder of MNIST-format IDX files, a ``.csv`` file or a ``.npz``
file. :func:`list_datasets` says which named sets work on this machine.

File loaders raise one error type per kind of problem (see
:mod:`chainrule.data.datasets.errors`), naming the file and the line or record,
and never read more than ``max_bytes`` (:data:`DEFAULT_MAX_BYTES`) from a file,
counting decompressed and declared sizes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._bundle import DatasetBundle, DatasetInfo
from .bundled import SKLEARN_SETS, load_sklearn_set, sklearn_available
from .errors import (
    DEFAULT_MAX_BYTES,
    DataContentError,
    DataFileError,
    DataFormatError,
    DatasetNotFoundError,
    DataTooLargeError,
    NonFiniteValueError,
)
from .files import (
    FASHION_MNIST_CLASSES,
    csv_layout,
    find_fashion_mnist,
    idx_images_as_float,
    load_csv,
    load_fashion_mnist,
    load_idx_folder,
    load_npz,
    read_csv_columns,
    read_idx,
    read_npy,
    read_npz,
    write_idx,
)
from .generated import load_mnist1d, load_sine, load_spirals, load_xor, make_mnist1d
from .mmap import is_npy_source, load_npy

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_MAX_BYTES",
    "FASHION_MNIST_CLASSES",
    "DataContentError",
    "DataFileError",
    "DataFormatError",
    "DataTooLargeError",
    "DatasetBundle",
    "DatasetInfo",
    "DatasetNotFoundError",
    "NonFiniteValueError",
    "available",
    "csv_layout",
    "idx_images_as_float",
    "list_datasets",
    "load",
    "make_mnist1d",
    "read_csv_columns",
    "read_idx",
    "read_npy",
    "read_npz",
    "write_idx",
]

DEFAULT_DATASET = "digits"
"""The set ``load()`` and ``chainrule train`` use when none is named."""


@dataclass(frozen=True)
class _Entry:
    loader: Callable
    task: str
    description: str
    source: str
    check: Callable  # () -> (available, note)


def _sklearn_check():
    if sklearn_available():
        return True, "bundled with scikit-learn"
    return False, "needs scikit-learn: pip install scikit-learn"


def _fashion_check():
    folder = find_fashion_mnist()
    if folder is not None:
        return True, f"found in {folder}"
    return False, (
        "IDX files not found: apt-get install dataset-fashion-mnist, or set "
        "CHAINRULE_DATA / pass root=FOLDER"
    )


def _generated_check():
    return True, "generated from the seed"


def _sklearn_entry(name):
    _, description, source, _ = SKLEARN_SETS[name]

    def loader(*, seed=0, test_size=0.2, standardize=None):
        return load_sklearn_set(name, seed=seed, test_size=test_size, standardize=standardize)

    return _Entry(loader, "classification", description, source, _sklearn_check)


_REGISTRY = {name: _sklearn_entry(name) for name in SKLEARN_SETS}
_REGISTRY.update(
    {
        "mnist1d": _Entry(
            load_mnist1d,
            "classification",
            "MNIST-1D: 10 classes of 1-D signals of length 40 (4000 train / 1000 test)",
            "Greydanus (2020), arXiv:2011.14439; generated offline from the seed",
            _generated_check,
        ),
        "fashion-mnist": _Entry(
            load_fashion_mnist,
            "classification",
            "Fashion-MNIST: 28x28 grey clothing images, 10 classes (60000 train / 10000 test)",
            "Xiao, Rasul & Vollgraf (2017), Zalando Research; IDX files on disk",
            _fashion_check,
        ),
        "xor": _Entry(
            load_xor,
            "classification",
            "XOR: 2-D points around (±1, ±1), 2 classes (400 samples)",
            "generated from the seed",
            _generated_check,
        ),
        "spirals": _Entry(
            load_spirals,
            "classification",
            "Spirals: 3 interleaved 2-D spiral arms (600 samples)",
            "generated from the seed",
            _generated_check,
        ),
        "sine": _Entry(
            load_sine,
            "regression",
            "Sine: y = sin(x) + noise, x in [-π, π] (500 samples)",
            "generated from the seed",
            _generated_check,
        ),
    }
)

_ALIASES = {
    "breast_cancer": "breast-cancer",
    "breastcancer": "breast-cancer",
    "mnist-1d": "mnist1d",
    "mnist_1d": "mnist1d",
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "spiral": "spirals",
    "sin": "sine",
}

_TASKS = ("classification", "regression")


def _canonical(name: str) -> str | None:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in _REGISTRY else None


def list_datasets() -> list[DatasetInfo]:
    """Every named dataset with its description, source and whether it loads here now.

    Returns
    -------
    list of DatasetInfo
        ``name``, ``task``, ``description``, ``source``, ``available`` and a
        ``note`` (where fashion-mnist was found, or what is missing).

    Examples
    --------
    >>> [info.name for info in list_datasets()][:2]
    ['digits', 'iris']
    """
    infos = []
    for name, entry in _REGISTRY.items():
        ok, note = entry.check()
        infos.append(DatasetInfo(name, entry.task, entry.description, entry.source, ok, note))
    return infos


def available() -> list[str]:
    """Names of the datasets that :func:`load` can load on this machine now."""
    return [info.name for info in list_datasets() if info.available]


def _call_loader(entry_name: str, loader: Callable, kwargs: dict):
    accepted = inspect.signature(loader).parameters
    unknown = sorted(k for k in kwargs if k not in accepted)
    if unknown:
        options = sorted(k for k in accepted if k not in ("seed", "test_size", "standardize"))
        raise TypeError(
            f"load: dataset {entry_name!r} does not take option(s) {unknown}; its options are "
            f"{options} plus seed, test_size, standardize"
        )
    return loader(**kwargs)


def load(name_or_path: str | Path = DEFAULT_DATASET, *, split: str | None = None, seed: int = 0,
         root: str | Path | None = None, test_size: float | None = None, task: str | None = None,
         standardize: bool | None = None, test_data: str | Path | None = None,
         max_bytes: int | None = None, mmap: bool | None = None, **options):
    """Load a dataset by name or from a path.

    Parameters
    ----------
    name_or_path : str or Path
        A name from :func:`list_datasets` (``'digits'`` by default; case and
        ``-``/``_`` are forgiven), or a path: a folder of MNIST-format IDX files,
        a ``.csv`` file or a ``.npz`` file.
    split : {'train', 'test'}, optional
        None returns the whole :class:`DatasetBundle`; ``'train'`` or ``'test'``
        returns just that split as a tuple ``(X, y)``.
    seed : int
        Seeds the generated sets and the train/test split of sets that have no
        official split (80/20, stratified for classification). Same seed, same arrays.
    root : str or Path, optional
        Folder to look for files in (fashion-mnist); overrides the search path.
    test_size : float, optional
        Test fraction for sets without an official split (default 0.2).
    task : {'classification', 'regression'}, optional
        For files: override the task inferred from ``y`` (integers or text mean
        classification, floats regression).
    standardize : bool, optional
        Standardise features with training-set statistics (stored in
        ``feature_mean``/``feature_scale``). None means the set's default: on for
        iris, wine, breast-cancer; off for the rest.
    test_data : str or Path, optional
        For a ``.csv`` or ``.npz`` path: a second file of the same kind holding
        the test split (then all of ``name_or_path`` is training data).
    max_bytes : int, optional
        For files: the most bytes read from one file, decompressed and declared
        sizes included (default :data:`DEFAULT_MAX_BYTES`).
    mmap : bool, optional
        For ``.npy`` files given as ``"X.npy,y.npy"`` (test files as
        ``test_data="X_test.npy,y_test.npy"``): memory-map the inputs instead of
        reading them (the default for .npy), for data larger than memory; see
        :mod:`chainrule.data.datasets.mmap`.
    **options
        Per-set options: ``n_samples``, ``noise`` (xor, spirals, sine),
        ``num_classes`` (spirals), ``num_samples`` (mnist1d); ``target``,
        ``header``, ``delimiter`` (CSV).

    Returns
    -------
    DatasetBundle, or (X, y) when ``split`` is given.

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones); for files, a
        :class:`DataFileError` subclass: :class:`DataFormatError`,
        :class:`NonFiniteValueError`, :class:`DataContentError`,
        :class:`DataTooLargeError`, naming the file and the line or record.
    DatasetNotFoundError
        A path or a dataset's files that do not exist (a FileNotFoundError).

    Examples
    --------
    >>> bundle = load("iris", seed=0)
    >>> bundle.X_train.shape, bundle.num_classes
    ((120, 4), 3)
    >>> X_test, y_test = load("xor", split="test")
    """
    if split not in (None, "train", "test"):
        raise ValueError(f"load: split must be None, 'train' or 'test', received {split!r}")
    if task is not None and task not in _TASKS:
        raise ValueError(f"load: task must be 'classification' or 'regression', received {task!r}")
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(
            f"load: expected a dataset name or a path, received {type(name_or_path).__name__}"
        )
    if mmap or is_npy_source(name_or_path):
        bundle = _load_npy(name_or_path, mmap, task, test_size, standardize, test_data, options)
        if split is None:
            return bundle
        return (bundle.X_train, bundle.y_train) if split == "train" else (bundle.X_test,
                                                                          bundle.y_test)
    kwargs = dict(options, seed=seed)
    if max_bytes is not None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"load: max_bytes must be a positive int, received {max_bytes!r}")
        kwargs["max_bytes"] = max_bytes
    if test_data is not None:
        kwargs["test_path"] = Path(test_data).expanduser()
        if not kwargs["test_path"].is_file():
            raise DatasetNotFoundError(f"load: no such test file: {str(test_data)!r}")
    if test_size is not None:
        kwargs["test_size"] = test_size
    if standardize is not None:
        kwargs["standardize"] = standardize
    name = _canonical(str(name_or_path)) if isinstance(name_or_path, str) else None
    if name is not None:
        entry = _REGISTRY[name]
        if test_data is not None:
            raise ValueError(
                f"load: dataset {name!r} has its own test split; test_data applies "
                "to .csv and .npz files"
            )
        if max_bytes is not None and name != "fashion-mnist":
            kwargs.pop("max_bytes")  # only file loaders read files
        if root is not None:
            if name != "fashion-mnist":
                raise TypeError(
                    f"load: dataset {name!r} does not read files; root applies to fashion-mnist"
                )
            kwargs["root"] = root
        if task is not None and task != entry.task:
            raise ValueError(
                f"load: dataset {name!r} is a {entry.task} set, received task={task!r}"
            )
        bundle = _call_loader(name, entry.loader, kwargs)
    else:
        bundle = _load_path(Path(name_or_path).expanduser(), task, kwargs, str(name_or_path))
    if split is None:
        return bundle
    return (bundle.X_train, bundle.y_train) if split == "train" else (bundle.X_test, bundle.y_test)


def _load_npy(source, mmap, task, test_size, standardize, test_data, options):
    """``load`` for ``.npy`` files (memory-mapped unless ``mmap=False``)."""
    if not is_npy_source(source):
        raise ValueError(f"load: mmap applies to .npy files given as 'X.npy,y.npy', "
                         f"received {str(source)!r}")
    if options:
        raise TypeError(f"load: .npy files take no option(s) {sorted(options)}")
    if test_data is not None:
        if not is_npy_source(test_data) or len(str(source).split(",")) == 4:
            raise ValueError(f"load: test_data for .npy files is 'X_test.npy,y_test.npy', "
                             f"received {str(test_data)!r}")
        source = f"{source},{test_data}"
    return load_npy(source, mmap=mmap is not False, task=task,
                    test_size=0.2 if test_size is None else test_size,
                    standardize=bool(standardize))


def _load_path(path: Path, task, kwargs: dict, given: str):
    if not path.exists():
        looks_like_path = path.suffix or "/" in given or "\\" in given
        if looks_like_path:
            raise DatasetNotFoundError(f"load: no such file or folder: {given!r}")
        raise ValueError(
            f"load: unknown dataset {given!r}; known datasets are {sorted(_REGISTRY)}, or give "
            "a path to a folder of IDX files, a .csv file or a .npz file"
        )
    if path.is_dir():
        if "test_path" in kwargs:
            raise ValueError(
                f"load: {given!r} is a folder of IDX files with its own test split; "
                "test_data applies to .csv and .npz files"
            )
        kwargs = {k: v for k, v in kwargs.items() if k not in ("seed", "test_size")}
        return _call_loader(str(path), _bind(load_idx_folder, path), dict(kwargs, task=task))
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".gz" else path.suffix.lower()
    test_path = kwargs.get("test_path")
    if test_path is not None and (test_path.suffix.lower() == ".npz") != (suffix == ".npz"):
        raise ValueError(f"load: test_data {str(test_path)!r} must be the same kind of file as "
                         f"{given!r} (both .csv or both .npz)")
    if suffix in (".csv", ".txt", ".tsv"):
        return _call_loader(str(path), _bind(load_csv, path), dict(kwargs, task=task))
    if suffix == ".npz":
        return _call_loader(str(path), _bind(load_npz, path), dict(kwargs, task=task))
    raise ValueError(
        f"load: cannot read {given!r}: expected a folder of IDX files, a .csv or a .npz file"
    )


def _bind(function, path):
    """The loader with the path bound, keeping the keyword signature for option checks."""

    def loader(**kwargs):
        return function(path, **kwargs)

    loader.__signature__ = inspect.signature(function).replace(
        parameters=list(inspect.signature(function).parameters.values())[1:]
    )
    return loader
