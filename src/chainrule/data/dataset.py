"""Datasets: indexable collections of samples, and ways to cut them.

A dataset is anything with ``__len__`` and ``__getitem__(i)`` returning one
sample (usually a tuple ``(x, y)``). A dataset that can also fetch many samples
at once defines ``get_batch(indices)`` returning the already stacked batch; the
:class:`~chainrule.data.DataLoader` then slices with one index array instead of
calling ``__getitem__`` once per sample, which is much faster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..backend import DEFAULT_FLOAT, xp
from ..rng import get_generator
from ..tensor import Tensor

__all__ = ["Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: ``len(ds)`` samples, ``ds[i]`` the i-th one.

    Subclasses implement ``__len__`` and ``__getitem__``. They may also implement
    ``get_batch(indices)``, returning the samples at an integer index array
    already stacked along a new first axis (a tuple of arrays, one per field),
    which :class:`~chainrule.data.DataLoader` uses as a fast path.

    Examples
    --------
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 5
    ...     def __getitem__(self, i):
    ...         return float(i), float(i * i)
    >>> Squares()[3]
    (3.0, 9.0)
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


def _as_array(value, argument: str):
    """An ndarray from an array, a Tensor or array_like (lists of floats become float32)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, xp.ndarray):
        array = value
    else:
        array = xp.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(DEFAULT_FLOAT)  # Python floats follow the Tensor default
    if array.dtype.kind in "OcUSV":
        raise TypeError(f"{argument}: expected numeric data, received dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(
            f"{argument}: expected an array with a first (sample) axis, received a scalar"
        )
    return array


class TensorDataset(Dataset):
    """A dataset over arrays (or Tensors) that share their first dimension.

    Sample ``i`` is ``tuple(array[i] for array in arrays)``. The arrays keep
    their dtype (store features as float32 and class labels as int64); Tensors
    contribute their ``.data``; Python lists of floats become float32.

    Parameters
    ----------
    *arrays : ndarray or Tensor
        Each of shape ``(N, ...)``, all with the same ``N``.

    Raises
    ------
    ValueError
        When no array is given or the first dimensions differ.

    Examples
    --------
    >>> import numpy as np
    >>> ds = TensorDataset(np.zeros((4, 3), np.float32), np.arange(4))
    >>> len(ds), int(ds[1][1])
    (4, 1)
    """

    def __init__(self, *arrays) -> None:
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, received none")
        self.arrays = tuple(_as_array(a, f"TensorDataset: array {k}") for k, a in enumerate(arrays))
        lengths = [len(a) for a in self.arrays]
        if any(n != lengths[0] for n in lengths):
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                "TensorDataset: expected all arrays to have the same first dimension "
                f"(number of samples), received shapes {shapes}"
            )

    @property
    def tensors(self) -> tuple:
        """The stored arrays (named as in PyTorch)."""
        return self.arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        """The samples at ``indices`` (an int array), stacked: one array per field."""
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Parameters
    ----------
    dataset : Dataset
        The full dataset.
    indices : sequence of int
        Positions into ``dataset``; ``Subset[i]`` is ``dataset[indices[i]]``.
    """

    def __init__(self, dataset, indices: Sequence[int]) -> None:
        indices = xp.asarray(indices)
        if indices.size == 0:
            indices = indices.astype(xp.int64)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise TypeError(
                "Subset: expected indices to be a 1-D sequence of ints, received "
                f"shape {indices.shape} dtype {indices.dtype}"
            )
        n = len(dataset)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise ValueError(
                f"Subset: indices must lie in [-{n}, {n - 1}] for a dataset of {n} samples, "
                f"received values from {indices.min()} to {indices.max()}"
            )
        self.dataset = dataset
        self.indices = indices.astype(xp.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getattr__(self, name):
        # Offer get_batch only when the wrapped dataset has it (the DataLoader checks hasattr).
        if name == "get_batch" and hasattr(self.dataset, "get_batch"):
            return lambda indices: self.dataset.get_batch(self.indices[indices])
        if name == "get_batch" and isinstance(self.dataset, (xp.ndarray, Tensor)):
            data = self.dataset.data if isinstance(self.dataset, Tensor) else self.dataset
            return lambda indices: data[self.indices[indices]]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _split_lengths(lengths: Sequence[float], n: int) -> list[int]:
    """Integer lengths from ints (summing to n) or fractions (summing to 1), as in PyTorch."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: expected at least one length, received none")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in lengths):
        if any(v < 0 for v in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, received {lengths}")
        if sum(lengths) != n:
            raise ValueError(
                f"random_split: lengths must sum to the dataset length {n}, "
                f"received {lengths} (sum {sum(lengths)})"
            )
        return lengths
    if any(
        not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 or v > 1 for v in lengths
    ):
        raise ValueError(
            f"random_split: expected lengths as ints summing to {n} or fractions in [0, 1] "
            f"summing to 1, received {lengths}"
        )
    if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions must sum to 1, received {lengths} (sum {sum(lengths)})"
        )
    counts = [math.floor(n * frac) for frac in lengths]
    for k in range(n - sum(counts)):  # hand the remainder out round-robin, as PyTorch does
        counts[k % len(counts)] += 1
    return counts


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split a dataset into non-overlapping random subsets.

    Parameters
    ----------
    dataset : Dataset
        The dataset to split (``N`` samples).
    lengths : sequence of int or float
        Either the subset sizes (summing to ``N``) or fractions summing to 1;
        fractions are floored and the remainder handed out one by one from the
        first subset, as in PyTorch.
    generator : numpy.random.Generator or int, optional
        Source of the permutation; the library default when None.

    Returns
    -------
    list of Subset

    Examples
    --------
    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10))
    >>> train, val = random_split(ds, [0.8, 0.2], generator=np.random.default_rng(0))
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    order = get_generator(generator).permutation(n)
    subsets, start = [], 0
    for count in counts:
        subsets.append(Subset(dataset, order[start:start + count]))
        start += count
    return subsets
