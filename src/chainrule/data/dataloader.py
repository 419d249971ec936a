"""DataLoader: iterate over a dataset in (shuffled) mini-batches of Tensors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..backend import DEFAULT_FLOAT, xp
from ..rng import get_generator
from ..tensor import Tensor

__all__ = ["DataLoader", "default_collate"]


def _to_tensor(array) -> Tensor:
    """Wrap a batch array in a Tensor, keeping its dtype (float64 stays float64)."""
    if isinstance(array, Tensor):
        return array
    array = xp.asarray(array)
    if array.dtype.kind == "f" and array.dtype != DEFAULT_FLOAT:
        return Tensor(array, dtype=array.dtype)
    return Tensor(array)


def _stack_field(values: list):
    first = values[0]
    if isinstance(first, Tensor):
        return xp.stack([v.data for v in values])
    if isinstance(first, (xp.ndarray, xp.generic)):
        return xp.stack([xp.asarray(v) for v in values])
    array = xp.asarray(values)  # Python numbers: ints -> int64, floats -> float32 (Tensor default)
    return array.astype(DEFAULT_FLOAT) if array.dtype.kind == "f" else array


def default_collate(samples: list):
    """Stack a list of samples into a batch.

    Tuple/list samples give a tuple with one stacked array per field; array or
    number samples give one stacked array. Arrays keep their dtype; Python
    floats become float32 and Python ints int64.
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(s) != width for s in samples):
            raise ValueError("DataLoader: every sample must have the same number of fields")
        return tuple(_stack_field([s[k] for s in samples]) for k in range(width))
    return _stack_field(samples)


class DataLoader:
    """Iterate over a dataset in mini-batches of :class:`~chainrule.Tensor`.

    Each iteration is one epoch. A dataset of tuples (such as
    :class:`TensorDataset`) yields tuples of Tensors, one per field; a dataset of
    single arrays (or an ndarray passed directly) yields single Tensors. Arrays
    keep the dtype the dataset stores (float32 features and int64 labels
    normally; float64 stays float64).

    Datasets with a ``get_batch(indices)`` method (:class:`TensorDataset`,
    :class:`Subset` of one) and plain ndarrays/Tensors are sliced with one index
    array per batch; other datasets are read sample by sample and stacked by
    ``collate_fn``.

    Parameters
    ----------
    dataset : Dataset, ndarray or Tensor
        ``N`` samples.
    batch_size : int
        Samples per batch (the last one may be smaller).
    shuffle : bool
        Draw a new permutation at the start of every epoch.
    drop_last : bool
        Drop the last batch when it has fewer than ``batch_size`` samples.
    generator : numpy.random.Generator or int, optional
        Source of the shuffling; the library default (see
        :func:`chainrule.manual_seed`) when None, looked up at each epoch.
    collate_fn : callable, optional
        Turns a list of samples into a batch on the sample-by-sample path;
        :func:`default_collate` when None.

    Notes
    -----
    ``len(loader)`` is the number of batches per epoch:
    ``ceil(N / batch_size)``, or ``floor(N / batch_size)`` with ``drop_last``.

    Examples
    --------
    >>> import numpy as np
    >>> from chainrule.data import TensorDataset
    >>> ds = TensorDataset(np.ones((10, 3), np.float32), np.arange(10))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, generator=np.random.default_rng(0))
    >>> len(loader)
    3
    >>> xb, yb = next(iter(loader))
    >>> xb.shape, yb.dtype
    ((4, 3), dtype('int64'))
    """

    def __init__(
        self,
        dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator=None,
        collate_fn: Callable | None = None,
    ) -> None:
        if (
            not isinstance(batch_size, (int, xp.integer))
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int, received {batch_size!r}"
            )
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                "DataLoader: dataset must support len() and indexing, received "
                f"{type(dataset).__name__}"
            )
        if generator is not None:
            generator = get_generator(generator)  # an int seed becomes one Generator for all epochs
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else default_collate

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size

    def _fetch(self, indices):
        dataset = self.dataset
        if isinstance(dataset, Tensor):
            return dataset.data[indices]
        if isinstance(dataset, xp.ndarray):
            return dataset[indices]
        if self.collate_fn is default_collate and hasattr(dataset, "get_batch"):
            return dataset.get_batch(indices)
        return self.collate_fn([dataset[int(i)] for i in indices])

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        if self.shuffle:
            order = get_generator(self.generator).permutation(n)
        else:
            order = xp.arange(n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = self._fetch(order[start:start + self.batch_size])
            if isinstance(batch, (tuple, list)):
                yield tuple(_to_tensor(field) for field in batch)
            else:
                yield _to_tensor(batch)
