"""Datasets larger than memory: ``.npy`` files memory-mapped and read a batch at a time.

``load("X.npy,y.npy", mmap=True)`` (or ``chainrule train --data X.npy,y.npy``)
maps the inputs file instead of reading it: ``X_train`` and ``X_test`` are
read-only views of the mapping (the last ``test_size`` fraction of the rows
is the test set, so no row is copied), and a mini-batch reads only its own
rows. The labels (one number per sample) are read into memory.

The operating system keeps the pages a process has touched resident until it
needs the memory back. :func:`release_pages` tells it now (``madvise
MADV_DONTNEED`` on the mapping; the data stays in the page cache, the
process's resident set shrinks): the training loop calls it after reading
each batch, and :func:`check_finite_mapped` after each chunk it scans, so
resident memory stays at a few batches whatever the file's size.
"""

from __future__ import annotations

import mmap as _mmap
from pathlib import Path

from ...backend import host as np

__all__ = [
    "MappedRows",
    "check_finite_mapped",
    "is_mapped",
    "is_npy_source",
    "load_npy",
    "open_npy",
    "release_pages",
]

_CHUNK_BYTES = 64 << 20


def is_npy_source(source) -> bool:
    """Whether ``source`` names ``.npy`` files: ``"X.npy,y.npy"`` (+ ``,X_test.npy,y_test.npy``)."""
    parts = [p.strip() for p in str(source).split(",")]
    return len(parts) in (2, 4) and all(p.lower().endswith(".npy") for p in parts)


def open_npy(path, *, mmap: bool = True):
    """The array stored in a ``.npy`` file, memory-mapped read-only (``mmap=True``) or read.

    Object arrays are refused (reading them would need pickle); the array must
    be in C order so that a row is one contiguous range of the file.
    """
    path = Path(path)
    if not path.is_file():
        from .files import DatasetNotFoundError

        raise DatasetNotFoundError(f"load: no such file: {str(path)!r}")
    try:
        header = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{path}: cannot map the .npy ({error}); chainrule never reads pickled "
                         "object arrays: store a numeric array") from None
    shape, dtype, offset = header.shape, header.dtype, header.offset
    fortran_order = header.ndim > 1 and not header.flags.c_contiguous
    del header
    if fortran_order:
        raise ValueError(f"{path}: the array is in Fortran order; save it in C order "
                         "(np.save(path, np.ascontiguousarray(X))) so rows can be read alone")
    count = int(np.prod(shape)) if shape else 1
    with open(path, "rb") as handle:
        if not mmap or count == 0:
            handle.seek(offset)
            return np.fromfile(handle, dtype=dtype, count=count).reshape(shape)
        mapping = _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_READ)
    expected = offset + count * dtype.itemsize
    if len(mapping) < expected:
        raise ValueError(f"{path}: the file is truncated: {len(mapping)} bytes, the header "
                         f"announces {expected}")
    return np.frombuffer(mapping, dtype=dtype, count=count, offset=offset).reshape(shape)


def _mapping_of(array):
    base = array
    while base is not None:
        if isinstance(base, _mmap.mmap):
            return base
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    return None


def is_mapped(array) -> bool:
    """Whether ``array`` is a view of a file mapping made by :func:`open_npy`."""
    return _mapping_of(array) is not None


def release_pages(array) -> bool:
    """Drop the pages of ``array``'s file mapping from this process's resident memory.

    Returns False (and does nothing) when ``array`` is not a view of a
    mapping made by :func:`open_npy`. Reading the array again reloads pages
    from the page cache, or from the file.
    """
    mapping = _mapping_of(array)
    if mapping is None or not hasattr(mapping, "madvise"):
        return False
    mapping.madvise(_mmap.MADV_DONTNEED)
    return True


class MappedRows:
    """Rows of a memory-mapped array, read from the file only when turned into an array.

    ``ArrayData`` yields these for a mapped ``X``: slicing one (what a strategy's
    ``shard`` does) narrows the rows without reading, so each process of a
    data-parallel job reads only its own shard of every batch; ``numpy.asarray``
    reads the rows and releases the file's pages.
    """

    def __init__(self, array, rows):
        self.array = array
        self.rows = np.arange(len(array))[rows] if isinstance(rows, slice) else np.asarray(rows)

    @property
    def shape(self) -> tuple:
        return (len(self.rows),) + tuple(self.array.shape[1:])

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key):
        if isinstance(key, slice):
            return MappedRows(self.array, self.rows[key])
        return self.read()[key]

    def read(self):
        """The rows as an in-memory array (the file's pages released afterwards)."""
        rows = np.array(self.array[self.rows])
        release_pages(self.array)
        return rows

    def __array__(self, dtype=None, copy=None):
        rows = self.read()
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def astype(self, dtype, copy=True):
        return self.read().astype(dtype, copy=False)


def check_finite_mapped(array, label: str) -> None:
    """``check_finite`` (data.preprocessing) a chunk of rows at a time, releasing the pages."""
    from ..preprocessing import check_finite

    row_bytes = max(1, array[:1].nbytes)
    step = max(1, _CHUNK_BYTES // row_bytes)
    for start in range(0, len(array), step):
        try:
            check_finite(array[start:start + step], label)
        except ValueError as error:
            raise ValueError(f"{error} (counting from row {start})") from None
        finally:
            release_pages(array)


def _labels(y, path, task):
    y = np.asarray(y)
    if task == "classification":
        y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1 or y.dtype.kind not in "iub":
            raise ValueError(f"{path}: classification labels must be integers of shape (N,), "
                             f"received dtype {y.dtype}, shape {y.shape}")
        return y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{path}: regression targets must be numeric, received dtype {y.dtype}")
    return y.reshape(len(y), -1).astype(np.float32)


def load_npy(source, *, mmap: bool = True, task: str | None = None, test_size: float = 0.2,
             standardize: bool = False, seed: int = 0):
    """A :class:`DatasetBundle` from ``"X.npy,y.npy"`` (or ``"X.npy,y.npy,X_test.npy,y_test.npy"``).

    Parameters
    ----------
    source : str
        Comma-separated ``.npy`` paths: inputs (N, ...) in a float or integer
        dtype, and targets (N,) or (N, k).
    mmap : bool
        Memory-map the inputs (default) rather than read them.
    task : {'classification', 'regression'}, optional
        Default: classification for integer targets, regression otherwise.
    test_size : float
        Without test files: the fraction of rows, taken from the end, held out.
    standardize : bool
        Not applied (it would rewrite every value of the file): the bundle's
        ``notes`` say so; standardise the file beforehand.
    seed : int
        Unused: the split is the file's last rows, so that no row is copied.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "X.npy"), np.zeros((10, 3), np.float32))
    >>> np.save(os.path.join(folder, "y.npy"), np.arange(10) % 2)
    >>> bundle = load_npy(f"{folder}/X.npy,{folder}/y.npy")
    >>> bundle.X_train.shape, bundle.X_test.shape, bundle.num_classes
    ((8, 3), (2, 3), 2)
    """
    from ._bundle import DatasetBundle

    del seed
    notes = []
    if standardize:
        notes.append(f"{Path(str(source).split(',')[0]).name} is used as stored, not standardised "
                     "(standardising would rewrite every value of the file); standardise it "
                     "beforehand if its features have very different scales")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"load: test_size must be in (0, 1), received {test_size}")
    paths = [Path(p.strip()).expanduser() for p in str(source).split(",")]
    X, y = open_npy(paths[0], mmap=mmap), open_npy(paths[1], mmap=False)
    if X.ndim < 2 or X.dtype.kind not in "iuf":
        raise ValueError(f"{paths[0]}: expected a numeric array of shape (N, features...), "
                         f"received dtype {X.dtype}, shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"{paths[1]}: expected {len(X)} targets, one per row of {paths[0].name}, "
                         f"received {len(y)}")
    task = task or ("classification" if y.dtype.kind in "iub" else "regression")
    y = _labels(y, paths[1], task)
    if len(paths) == 4:
        X_test, y_test = open_npy(paths[2], mmap=mmap), _labels(open_npy(paths[3], mmap=False),
                                                                 paths[3], task)
        if X_test.shape[1:] != X.shape[1:] or len(X_test) != len(y_test):
            raise ValueError(f"{paths[2]}: expected rows of shape {X.shape[1:]}, one target each, "
                             f"received shape {X_test.shape} and {len(y_test)} targets")
        X_train, y_train = X, y
    else:
        cut = len(X) - max(1, round(len(X) * test_size))
        if cut < 1:
            raise ValueError(f"{paths[0]}: {len(X)} rows are too few for a train and a test set")
        X_train, y_train, X_test, y_test = X[:cut], y[:cut], X[cut:], y[cut:]
    if X.dtype.kind == "f":
        check_finite_mapped(X_train, f"{paths[0].name}: X_train")
        check_finite_mapped(X_test, f"{paths[0].name}: X_test")
    num_classes = None
    if task == "classification":
        low, high = min(y_train.min(), y_test.min()), max(y_train.max(), y_test.max())
        if low < 0:
            raise ValueError(f"{paths[1]}: class labels must be >= 0, received {low}")
        num_classes = int(high) + 1
    return DatasetBundle(
        name=paths[0].stem, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
        task=task, num_classes=num_classes, input_shape=tuple(X.shape[1:]),
        image_shape=tuple(X.shape[1:]) if X.ndim >= 3 else None,
        description=f"memory-mapped {paths[0].name}" if mmap else f"NumPy file {paths[0].name}",
        source=str(paths[0].resolve()), notes=notes,
    )
