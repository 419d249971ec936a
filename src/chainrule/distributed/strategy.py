"""DataParallel: synchronous data parallelism over MPI, equal to one process on the whole batch.

Every process holds a full copy of the model. ``fit`` builds the same global
batch on every process (the same shuffle, because the loop's generator is
broadcast from rank 0), and each process works on its contiguous shard:

1. ``setup``: check that all processes have the same architecture and data
   size, broadcast parameters, buffers and generators from rank 0, and
   (``sync_batchnorm``) swap BatchNorm layers for :class:`SyncBatchNorm`;
2. ``shard``: take this process's rows of the global batch (sizes differ by at most one);
3. forward and backward on the shard give ∇L_r, the gradient of the shard's mean loss;
4. ``reduce_gradients``: one Allreduce per dtype over a flat buffer holding
   Σ_r (n_r/n) ∇L_r, the gradient of the global batch's mean loss, because
   L = (1/n) Σ_i l_i = Σ_r (n_r/n) L_r; the optimizer step then sees on
   every process exactly what one process would see, so parameters stay equal;
5. ``reduce_metrics``: sums of additive statistics (loss sums, sample and
   correct counts) over processes, so every process reports the global figures.

Rank 0 alone prints, shows progress and writes files (``is_main``).
"""

from __future__ import annotations

import sys
import time

from ..backend import host as np
from ..backend import is_float_dtype, xp
from ..train.strategy import Strategy
from .comm import MPICommunicator, flat_buffer, launched_ranks, unflatten
from .sampler import shard_bounds
from .sync_batchnorm import (
    convert_sync_batchnorm,
    revert_sync_batchnorm,
    set_communicator,
    set_empty_shard,
)

__all__ = ["DataParallel"]


def _describe_model(model) -> list:
    """What must be equal on every process: module types; each state array's name, shape, dtype."""
    layers = [
        f"{name or '<model>'}:{type(module).__name__}" for name, module in model.named_modules()
    ]
    arrays = [
        (name, tuple(int(s) for s in value.shape), str(value.dtype))
        for name, value in model.state_dict().items()
    ]
    return [layers, arrays]


def _first_difference(descriptions) -> str:
    reference = descriptions[0]
    for rank, description in enumerate(descriptions[1:], start=1):
        if description != reference:
            return f"rank 0 has {reference!r}, rank {rank} has {description!r}"
    return ""


_LOOP_GENERATORS = ("fit", "data_loader")
"""Generators that must draw the same numbers on every rank: the shuffling order."""

_abort_hook_installed = False


def _abort_on_uncaught_exception(comm) -> None:
    """Make an uncaught exception in this process end the whole job instead of hanging it.

    With MPICH a process that dies of an exception leaves the others waiting in
    a collective (or in MPI_Finalize) forever unless the script runs under
    ``python -m mpi4py``; this hook prints the traceback, names the rank and
    calls ``MPI_Abort``, whatever the launch command was.
    """
    global _abort_hook_installed
    if _abort_hook_installed or comm.size == 1:
        return
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        print(
            f"chainrule.distributed: rank {comm.rank} of {comm.size} failed: "
            f"{kind.__name__}: {value}; aborting the job",
            file=sys.stderr,
            flush=True,
        )
        comm.abort(1)

    sys.excepthook = hook
    _abort_hook_installed = True


class DataParallel(Strategy):
    """Synchronous data parallelism on MPI (mpi4py), the Horovod/ChainerMN pattern.

    Run the script under a launcher, one process per rank::

        mpiexec -n 2 python -m mpi4py train.py

    (or ``chainrule train ... --ranks 2``, which does that for you).

    Parameters
    ----------
    comm : communicator, optional
        An mpi4py communicator, a :class:`~chainrule.distributed.comm.MPICommunicator`,
        or a :class:`~chainrule.distributed.comm.LocalCommunicator`
        (default: ``MPI.COMM_WORLD``; mpi4py is imported here, and its
        absence raises ImportError naming the ``[mpi]`` extra).
    ranks : int, optional
        The number of processes the job must have. A mismatch raises
        ValueError; so does asking for more than one outside a launcher.
    sync_batchnorm : bool
        Replace BatchNorm1d/2d layers by :class:`SyncBatchNorm` for the
        duration of training, so their statistics are those of the global
        batch (default True: that is what makes N processes equal to one).
        False keeps per-process statistics (PyTorch DDP's default).

    Attributes
    ----------
    rank, world_size, is_main
    timings : dict
        Seconds spent in the gradient Allreduce (``"allreduce"``) and the
        number of reductions (``"steps"``), for benchmarks.

    Examples
    --------
    >>> from chainrule.distributed import DataParallel       # doctest: +SKIP
    >>> history = fit(model, (X, y), loss="cross_entropy", optimizer=opt,  # doctest: +SKIP
    ...               epochs=5, batch_size=64, strategy=DataParallel())
    """

    def __init__(self, comm=None, *, ranks: int | None = None, sync_batchnorm: bool = True):
        if ranks is not None and (
            isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1
        ):
            raise ValueError(f"DataParallel: ranks must be a positive int, received {ranks!r}")
        if comm is None:
            comm = MPICommunicator()
        elif not hasattr(comm, "allreduce_sum"):
            comm = MPICommunicator(comm)
        self.comm = comm
        if ranks is not None and ranks != comm.size:
            if comm.size == 1 and launched_ranks() is None:
                raise ValueError(
                    f"DataParallel: {ranks} ranks requested, but this process was not started "
                    "by an MPI launcher (it is a world of 1); run "
                    f"`mpiexec -n {ranks} python -m mpi4py your_script.py`, "
                    "or `chainrule train ... --ranks N`"
                )
            raise ValueError(
                f"DataParallel: {ranks} ranks requested, but the MPI world has {comm.size}"
            )
        self.sync_batchnorm = bool(sync_batchnorm)
        self.timings = {"allreduce": 0.0, "steps": 0}
        self._model = None
        self._buffers: dict = {}

    # -------------------------------------------------------------- identity
    @property
    def rank(self) -> int:
        return self.comm.rank

    @property
    def world_size(self) -> int:
        return self.comm.size

    @property
    def is_main(self) -> bool:
        return self.comm.rank == 0

    def __repr__(self) -> str:
        return (f"DataParallel(rank={self.rank}, world_size={self.world_size}, "
                f"sync_batchnorm={self.sync_batchnorm})")

    # ----------------------------------------------------------------- setup
    def check_same(self, what: str, value) -> None:
        """Raise ValueError on every process unless ``value`` is equal on all of them."""
        values = self.comm.allgather_object(value)
        difference = _first_difference(values)
        if difference:
            raise ValueError(
                f"DataParallel: the processes disagree on {what}: {difference}; every rank must "
                "build the same model and load the same data"
            )

    def setup(self, model, optimizer=None, *, generators=None, data_size=None) -> None:
        """Make every process start from rank 0's state (see the module docstring).

        Parameters
        ----------
        model : Module
        optimizer : Optimizer, optional
            Its state (momentum buffers of a resumed run) is broadcast too.
        generators : dict[str, numpy.random.Generator], optional
            The loop's generators; their states are broadcast from rank 0.
        data_size : int or tuple, optional
            Checked to be the same on every process.
        """
        _abort_on_uncaught_exception(self.comm)
        self.check_same("the model's architecture", _describe_model(model))
        if data_size is not None:
            self.check_same("the number of training samples", data_size)
        self.broadcast_arrays(list(model.state_dict().values()))
        if optimizer is not None:
            state = _optimizer_arrays(optimizer)
            self.check_same("the optimizer state's shapes", [tuple(a.shape) for a in state])
            self.broadcast_arrays(state)
        for name, generator in sorted((generators or {}).items()):
            state = self.comm.broadcast_object(generator.bit_generator.state)
            generator.bit_generator.state = state
            if name not in _LOOP_GENERATORS and self.rank > 0:
                # A layer's generator (dropout masks) gets a stream of its own on each rank,
                # 2^127 draws apart; otherwise every shard would draw the same masks.
                generator.bit_generator.state = generator.bit_generator.jumped(self.rank).state
        if self.sync_batchnorm:
            convert_sync_batchnorm(model, self.comm)
            set_communicator(model, self.comm)
        self._model = model
        self._buffers = {}

    def broadcast_arrays(self, arrays) -> None:
        """Overwrite ``arrays`` in place with rank 0's values (one Bcast per dtype)."""
        by_dtype: dict = {}
        for array in arrays:
            by_dtype.setdefault(np.dtype(array.dtype).str, []).append(array)
        for dtype, group in sorted(by_dtype.items()):
            buffer = flat_buffer(group, dtype)
            self.comm.broadcast(buffer, root=0)
            unflatten(buffer, group)

    def teardown(self) -> None:
        """Put the original BatchNorm layers back and wait for every process."""
        if self._model is not None and self.sync_batchnorm:
            revert_sync_batchnorm(self._model)
        self._model = None
        self.comm.barrier()

    def barrier(self) -> None:
        self.comm.barrier()

    # ------------------------------------------------------------ every step
    def shard(self, batch):
        """This process's contiguous rows of a global batch ``(x, y)`` (or of one array)."""
        rows = len(batch[0]) if isinstance(batch, (tuple, list)) else len(batch)
        start, stop = shard_bounds(rows, self.rank, self.world_size)
        if isinstance(batch, (tuple, list)):
            if self._model is not None:
                set_empty_shard(self._model, start == stop)
            return type(batch)(_rows(part, start, stop) for part in batch)
        return batch[start:stop]

    def reduce_gradients(self, parameters, local_size: int, global_size: int) -> None:
        """Give every process the gradient of the global batch's mean loss.

        Each process contributes grad · local_size/global_size; one Allreduce
        per dtype sums the contributions on a flat buffer. A parameter whose
        gradient is None on every process keeps None (a flag per parameter
        travels in the same buffer), as one process would leave it.
        """
        params = list(parameters)
        if global_size <= 0:
            raise ValueError(
                "DataParallel.reduce_gradients: global_size must be positive, "
                f"received {global_size}"
            )
        share = local_size / global_size
        started = time.perf_counter()
        by_dtype: dict = {}
        for param in params:
            by_dtype.setdefault(np.dtype(param.dtype).str, []).append(param)
        for dtype, group in sorted(by_dtype.items()):
            buffer = self._gradient_buffer(dtype, group)
            sizes = [int(p.data.size) for p in group]
            flags = buffer[sum(sizes) :]
            offset = 0
            for index, (param, size) in enumerate(zip(group, sizes, strict=False)):
                view = buffer[offset : offset + size]
                if param.grad is None:
                    view[...] = 0
                    flags[index] = 0
                else:
                    xp.multiply(param.grad.reshape(-1), share, out=view, casting="unsafe")
                    flags[index] = 1
                offset += size
            self.comm.allreduce_sum(buffer)
            offset = 0
            for index, (param, size) in enumerate(zip(group, sizes, strict=False)):
                if flags[index] > 0:
                    param.grad = buffer[offset : offset + size].reshape(param.shape).copy()
                offset += size
        self.timings["allreduce"] += time.perf_counter() - started
        self.timings["steps"] += 1

    def _gradient_buffer(self, dtype, group):
        key = (dtype, tuple(id(p) for p in group))
        buffer = self._buffers.get(key)
        if buffer is None:
            dtype_ = np.dtype(dtype)
            buffer_dtype = dtype_ if is_float_dtype(dtype_) else np.float64
            buffer = xp.empty(sum(int(p.data.size) for p in group) + len(group), dtype=buffer_dtype)
            self._buffers[key] = buffer
        return buffer

    def reduce_metrics(self, sums: dict) -> dict:
        """Elementwise sums over processes of additive statistics (numbers or arrays), by key."""
        keys = sorted(sums)
        values = [np.asarray(sums[key], dtype=np.float64) for key in keys]
        buffer = flat_buffer(values, np.float64) if values else np.zeros(0)
        self.comm.allreduce_sum(buffer)
        reduced, offset = {}, 0
        for key, value in zip(keys, values, strict=False):
            part = buffer[offset : offset + value.size].reshape(value.shape)
            reduced[key] = float(part) if value.ndim == 0 else part.copy()
            offset += value.size
        return reduced


def _optimizer_arrays(optimizer) -> list:
    arrays = []
    for state in getattr(optimizer, "state", {}).values():
        if isinstance(state, dict):
            arrays.extend(
                v for v in state.values() if isinstance(v, xp.ndarray) and v.flags.writeable
            )
    return arrays


def _rows(part, start, stop):
    """Rows ``start:stop`` of an array, or of each array of a tuple (targets and sample weights)."""
    if isinstance(part, (tuple, list)):
        return type(part)(p[start:stop] for p in part)
    return part[start:stop]
