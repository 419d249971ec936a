"""Adapters from what users pass to the training loop to one batch protocol.

:func:`chainrule.train.fit`, :func:`~chainrule.train.evaluate`,
:func:`~chainrule.train.predict` and the scikit-learn estimators accept arrays,
Tensors, ``(X, y)`` pairs, map-style Datasets and DataLoaders. :func:`as_data`
turns each into an object with

* ``len(data)``: the number of samples;
* ``num_batches(batch_size)``: how many batches one pass yields;
* ``batches(batch_size, shuffle=False, generator=None)``: yields ``(inputs, targets)``
  array pairs; with ``shuffle`` the order is ``generator.permutation(len(data))``;
* ``split(fraction)``: ``(train, validation)``, the last ``fraction`` held out (Keras).

:class:`ArrayData` also takes SciPy sparse inputs (CSR, CSC, ...), which are
densified one mini-batch at a time, never whole.

Examples
--------
>>> import numpy as np
>>> data = as_data((np.arange(10.0).reshape(5, 2), np.arange(5)), "train_data")
>>> [len(x) for x, _ in data.batches(2)], data.num_batches(2)
([2, 2, 1], 3)
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from .datasets.mmap import MappedRows, check_finite_mapped, is_mapped
from .preprocessing import check_finite

__all__ = ["ArrayData", "DatasetData", "LoaderData", "StreamData", "as_array", "as_data",
           "is_sparse", "is_stream"]


def is_sparse(x) -> bool:
    """Whether ``x`` is a SciPy sparse matrix or array (checked without importing SciPy)."""
    return type(x).__module__.startswith("scipy.sparse") and hasattr(x, "tocsr")


def as_array(x, name: str):
    """A numeric array from a Tensor, an array or a nested list; TypeError for anything else."""
    if isinstance(x, Tensor):
        return x.data
    array = xp.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric arrays, received dtype {array.dtype}")
    return array


def _is_loader(data) -> bool:
    return hasattr(data, "dataset") and hasattr(data, "batch_size") and hasattr(data, "__iter__")


def _is_dataset(data) -> bool:
    return (hasattr(data, "__getitem__") and hasattr(data, "__len__")
            and not isinstance(data, (tuple, list)))


def _stack(items):
    return xp.stack([as_array(item, "dataset item") for item in items])


def _densify(rows):
    return xp.asarray(rows.toarray()) if is_sparse(rows) else rows


class ArrayData:
    """Batches from in-memory arrays ``X``, ``y`` (and optional sample weights ``w``).

    ``X`` may be a SciPy sparse matrix: it is sliced to CSR rows and each
    mini-batch is densified on its own. With weights, ``batches`` yields
    ``(inputs, (targets, weights))``.
    """

    def __init__(self, X, y, name: str, weights=None):
        if is_sparse(X):
            self.X = X.tocsr()
        else:
            self.X = as_array(X, f"{name} X")
        self.y = as_array(y, f"{name} y")
        self.weights = weights
        n_targets = self.y.shape[0]
        if self.X.shape[0] != n_targets:
            raise ValueError(
                f"{name}: X and y must have the same number of samples, received "
                f"{self.X.shape[0]} and {n_targets}"
            )
        if self.X.shape[0] == 0:
            raise ValueError(f"{name}: expected at least one sample, received 0")
        if not is_sparse(self.X) and self.X.dtype.kind == "f":
            # a memory-mapped file is scanned a chunk at a time (datasets/mmap.py)
            (check_finite_mapped if is_mapped(self.X) else check_finite)(self.X, f"{name} X")
        self.name = name
        self.bounds = None

    def __len__(self):
        return self.X.shape[0]

    def split(self, fraction):
        """(train, validation): the last ``fraction`` of the samples is held out (as Keras does)."""
        n_val = math.floor(len(self) * fraction)
        if n_val < 1 or n_val >= len(self):
            raise ValueError(
                f"fit: validation_split={fraction} leaves {n_val} validation and "
                f"{len(self) - n_val} "
                "training samples; both need at least one"
            )
        cut = len(self) - n_val
        weights = self.weights
        return (ArrayData(self.X[:cut], self.y[:cut], "train",
                          None if weights is None else weights[:cut]),
                ArrayData(self.X[cut:], self.y[cut:], "validation",
                          None if weights is None else weights[cut:]))

    def _bounds(self, batch_size):
        if self.bounds is not None:
            return self.bounds
        n = len(self)
        return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]

    def num_batches(self, batch_size):
        return len(self._bounds(batch_size))

    def _take(self, rows):
        targets = self.y[rows]
        if self.weights is not None:
            targets = (targets, self.weights[rows])
        if is_mapped(self.X):  # read later, only the rows this process keeps (datasets/mmap.py)
            return MappedRows(self.X, rows), targets
        return _densify(self.X[rows]), targets

    def batches(self, batch_size, shuffle=False, generator=None):
        order = generator.permutation(len(self)) if shuffle else None
        for start, stop in self._bounds(batch_size):
            yield self._take(slice(start, stop) if order is None else order[start:stop])


class DatasetData(ArrayData):
    """Batches from a map-style Dataset (``dataset[i] -> (x, y)``), collated by stacking."""

    def __init__(self, dataset, indices=None):
        self.dataset = dataset
        self.indices = list(range(len(dataset))) if indices is None else list(indices)
        self.bounds = None
        if not self.indices:
            raise ValueError("fit: the dataset is empty")

    def __len__(self):
        return len(self.indices)

    def split(self, fraction):
        n_val = math.floor(len(self) * fraction)
        if n_val < 1 or n_val >= len(self):
            raise ValueError(
                f"fit: validation_split={fraction} leaves an empty training or validation set"
            )
        cut = len(self) - n_val
        return (DatasetData(self.dataset, self.indices[:cut]),
                DatasetData(self.dataset, self.indices[cut:]))

    def batches(self, batch_size, shuffle=False, generator=None):
        order = list(generator.permutation(len(self)) if shuffle else range(len(self)))
        for start in range(0, len(order), batch_size):
            samples = [self.dataset[self.indices[i]] for i in order[start:start + batch_size]]
            yield _stack([s[0] for s in samples]), _stack([s[1] for s in samples])


class LoaderData:
    """Batches from a DataLoader, which does its own batching and shuffling."""

    def __init__(self, loader):
        self.loader = loader

    def __len__(self):
        return len(self.loader.dataset)

    def split(self, fraction):
        raise ValueError("fit: validation_split needs arrays or a Dataset, not a DataLoader; "
                         "pass validation_data instead")

    def num_batches(self, batch_size):
        return len(self.loader)

    def batches(self, batch_size, shuffle=False, generator=None):
        for batch in self.loader:
            if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
                raise ValueError("fit: a DataLoader must yield (inputs, targets) pairs")
            yield as_array(batch[0], "batch inputs"), as_array(batch[1], "batch targets")


def is_stream(data) -> bool:
    """Whether ``data`` is a stream of batches: an iterator or generator (not a sequence)."""
    return hasattr(data, "__next__") and hasattr(data, "__iter__")


class StreamData:
    """Batches pulled from a stream: any iterator of ``(inputs, targets)`` batches.

    The stream may never end. An epoch is the next ``steps_per_epoch`` batches (or, with
    None, everything up to the end of the stream); the stream is read once, never rewound,
    so successive epochs see successive batches. When it ends, :attr:`exhausted` is set
    and the training loop stops after that epoch. ``batch_size`` and ``shuffle`` do not
    apply: the stream decides both.
    """

    def __init__(self, stream, steps_per_epoch: int | None):
        self.stream = stream
        self.steps_per_epoch = steps_per_epoch
        self.seen = 0
        self._ahead = None
        self.exhausted = not self._pull()
        if self.exhausted:
            raise ValueError("fit: the stream yielded no batch")

    def _pull(self) -> bool:
        """Read the next batch ahead, so the end of the stream is known one batch early."""
        try:
            batch = next(self.stream)
        except StopIteration:
            self._ahead = None
            return False
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise ValueError(f"fit: a stream must yield (inputs, targets) pairs; the batch after "
                             f"{self.seen} samples is a {type(batch).__name__}")
        inputs, targets = as_array(batch[0], "stream inputs"), as_array(batch[1], "stream targets")
        if len(inputs) != len(targets):
            raise ValueError(f"fit: a stream batch has {len(inputs)} inputs but {len(targets)} "
                             "targets")
        self._ahead = (inputs, targets)
        return True

    def __len__(self):
        return self.seen

    def split(self, fraction):
        raise ValueError("fit: validation_split needs arrays or a Dataset, not a stream; pass "
                         "validation_data, or use chainrule.train.progressive_score")

    def num_batches(self, batch_size):
        return self.steps_per_epoch

    def batches(self, batch_size, shuffle=False, generator=None):
        step = 0
        while not self.exhausted and (self.steps_per_epoch is None or step < self.steps_per_epoch):
            batch = self._ahead
            self.seen += len(batch[0])
            step += 1
            self.exhausted = not self._pull()
            yield batch


def as_data(data, name: str):
    """The batch-protocol adapter for ``data`` (see the module docstring)."""
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(
                f"{name}: expected an (X, y) pair, received a sequence of length {len(data)}"
            )
        return ArrayData(data[0], data[1], name)
    if _is_loader(data):
        return LoaderData(data)
    if hasattr(data, "tensors") and len(data.tensors) == 2:  # TensorDataset
        return ArrayData(data.tensors[0], data.tensors[1], name)
    if _is_dataset(data):
        return DatasetData(data)
    if is_stream(data):
        return StreamData(data, None)
    raise TypeError(
        f"{name}: expected an (X, y) tuple, a Dataset, a DataLoader or a stream (an iterator of "
        f"(x, y) batches), received {type(data).__name__}"
    )
