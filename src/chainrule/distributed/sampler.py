"""Which samples each process handles: contiguous shards of a batch and :class:`DistributedSampler`.

Two ways to split data between P processes, both without padding, so every
sample is counted exactly once:

- :func:`shard_bounds` cuts a global batch (or a whole evaluation set) of n
  samples into P contiguous pieces whose sizes differ by at most one (the
  first n mod P pieces get the extra sample). :class:`DataParallel` uses it on
  every global batch that ``fit`` builds identically on each process.
- :class:`DistributedSampler` gives each process its share of a dataset's
  indices, for loops that build their own per-process batches (PyTorch's
  ``torch.utils.data.DistributedSampler`` with ``set_epoch``), but it pads
  nothing: with ``drop_last=False`` the shares differ by at most one sample.
"""

from __future__ import annotations

from ..backend import host as np

__all__ = ["DistributedSampler", "shard_bounds"]


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """``(start, stop)`` of process ``rank``'s contiguous shard of ``n`` samples, ``size`` ways.

    Examples
    --------
    >>> [shard_bounds(10, r, 3) for r in range(3)]
    [(0, 4), (4, 7), (7, 10)]
    """
    base, extra = divmod(int(n), int(size))
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def _check_index(owner, name, value, upper=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, received {type(value).__name__}")
    if value < 0 or (upper is not None and value >= upper):
        bound = f" and below {upper}" if upper is not None else ""
        raise ValueError(f"{owner}: {name} must be >= 0{bound}, received {value}")
    return int(value)


class DistributedSampler:
    """The indices of a dataset that one process of a data-parallel job handles.

    Every process builds the same order (the identity, or a permutation drawn
    from ``numpy.random.default_rng([seed, epoch])``) and takes every
    ``num_replicas``-th index starting at its ``rank``. Nothing is padded, so
    every sample appears on exactly one process: with ``drop_last=False`` the
    shares differ by at most one sample (exact evaluation); with
    ``drop_last=True`` the last ``len(dataset) % num_replicas`` samples of the
    order are left out and every share has the same length (training loops
    that run one collective per batch need equal lengths, or they hang).

    Parameters
    ----------
    dataset : sized
        Anything with ``len()``.
    num_replicas, rank : int, optional
        The world size and this process's rank (default: from the MPI world, or 1 and 0).
    shuffle : bool
        Draw a new order every epoch (call :meth:`set_epoch` before each).
    seed : int
        The same on every process.
    drop_last : bool

    Examples
    --------
    >>> sampler = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
    >>> list(sampler)
    [1, 4, 7]
    >>> sampler.set_epoch(1)
    """

    def __init__(
        self,
        dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if num_replicas is None or rank is None:
            from .comm import world

            comm = world()
            num_replicas = comm.size if num_replicas is None else num_replicas
            rank = comm.rank if rank is None else rank
        if (
            isinstance(num_replicas, bool)
            or not isinstance(num_replicas, (int, np.integer))
            or num_replicas < 1
        ):
            raise ValueError(
                "DistributedSampler: num_replicas must be a positive int, "
                f"received {num_replicas!r}"
            )
        self.num_replicas = int(num_replicas)
        self.rank = _check_index("DistributedSampler", "rank", rank, self.num_replicas)
        self.seed = _check_index("DistributedSampler", "seed", seed)
        self.dataset, self.shuffle, self.drop_last = dataset, bool(shuffle), bool(drop_last)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (the same on every process) from the next iteration."""
        self.epoch = _check_index("DistributedSampler.set_epoch", "epoch", epoch)

    def _used(self) -> int:
        n = len(self.dataset)
        return n - n % self.num_replicas if self.drop_last else n

    def __iter__(self):
        n = len(self.dataset)
        order = (
            np.random.default_rng([self.seed, self.epoch]).permutation(n)
            if self.shuffle
            else np.arange(n)
        )
        return iter(order[: self._used()][self.rank :: self.num_replicas].tolist())

    def __len__(self) -> int:
        used = self._used()
        return len(range(self.rank, used, self.num_replicas))
