"""Communicators: the few collective operations data-parallel training needs.

:class:`MPICommunicator` wraps an mpi4py communicator (``MPI.COMM_WORLD`` by
default); :class:`LocalCommunicator` is a world of one process, where every
collective is the identity. Both offer the same small interface, so the
strategy, the synchronised BatchNorm and the samplers are written once and
can be tested in a single process:

- ``rank``, ``size``;
- ``allreduce_sum(array)``: the elementwise sum over processes, in place;
- ``broadcast(array, root=0)``: root's values into every process's array, in place;
- ``broadcast_object(obj, root=0)``, ``allgather_object(obj)``: small JSON-like values;
- ``barrier()``, ``abort(status)``.

mpi4py is imported only when an :class:`MPICommunicator` is made; without it
the error names the ``[mpi]`` extra.
"""

from __future__ import annotations

import os
import sys

from ..backend import xp

__all__ = ["LocalCommunicator", "MPICommunicator", "import_mpi", "launched_ranks", "world"]

_MPI_MISSING = (
    "chainrule.distributed: mpi4py is not installed; install the MPI extra with "
    "`pip install 'chainrule[mpi]'` (it brings mpi4py and the mpich wheel with mpiexec)"
)

# Variables the common launchers set in every process they start, with the world size.
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")


def import_mpi():
    """Return ``mpi4py.MPI``, or raise ImportError naming the ``[mpi]`` extra."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(_MPI_MISSING) from error
    return MPI


def launched_ranks() -> int | None:
    """The world size a launcher (mpiexec, mpirun) announced to this process, or None."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value and value.isdigit():
            return int(value)
    return None


class LocalCommunicator:
    """A world of one process: every collective leaves its input as it is.

    Examples
    --------
    >>> import numpy as np
    >>> comm = LocalCommunicator()
    >>> comm.allreduce_sum(np.array([1.0, 2.0]))
    array([1., 2.])
    """

    rank = 0
    size = 1

    def allreduce_sum(self, array):
        return array

    def broadcast(self, array, root: int = 0):
        return array

    def broadcast_object(self, obj, root: int = 0):
        return obj

    def allgather_object(self, obj) -> list:
        return [obj]

    def barrier(self) -> None:
        pass

    def abort(self, status: int = 1) -> None:
        os._exit(status)


class MPICommunicator:
    """Collectives over an mpi4py communicator (``MPI.COMM_WORLD`` when ``comm`` is None).

    Array collectives use mpi4py's buffer interface (``Allreduce``/``Bcast``
    on the NumPy memory, no pickling); object collectives pickle, and are used
    only for small descriptions (architectures, sizes, errors) that the
    processes of one job send one another, never for files.
    """

    def __init__(self, comm=None):
        self.MPI = import_mpi()
        self.comm = self.MPI.COMM_WORLD if comm is None else comm
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()

    def allreduce_sum(self, array):
        if not array.flags.c_contiguous:
            raise ValueError(
                "allreduce_sum: expected a C-contiguous array, received a strided view"
            )
        self.comm.Allreduce(self.MPI.IN_PLACE, array, op=self.MPI.SUM)
        return array

    def broadcast(self, array, root: int = 0):
        if not array.flags.c_contiguous:
            raise ValueError("broadcast: expected a C-contiguous array, received a strided view")
        self.comm.Bcast(array, root=root)
        return array

    def broadcast_object(self, obj, root: int = 0):
        return self.comm.bcast(obj, root=root)

    def allgather_object(self, obj) -> list:
        return self.comm.allgather(obj)

    def barrier(self) -> None:
        self.comm.Barrier()

    def abort(self, status: int = 1) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.comm.Abort(status)


def world():
    """The communicator of every process in this job.

    Under a launcher that announced more than one process this is an
    :class:`MPICommunicator` on ``MPI.COMM_WORLD`` (mpi4py is required); with
    mpi4py installed it is one too; otherwise it is a :class:`LocalCommunicator`.
    """
    announced = launched_ranks()
    if announced is not None and announced > 1:
        return MPICommunicator()
    try:
        import_mpi()
    except ImportError:
        return LocalCommunicator()
    return MPICommunicator()


def flat_buffer(arrays, dtype):
    """One contiguous ``dtype`` array holding ``arrays`` back to back (for one collective)."""
    total = sum(int(a.size) for a in arrays)
    buffer = xp.empty(total, dtype=dtype)
    offset = 0
    for array in arrays:
        buffer[offset : offset + array.size] = array.reshape(-1)
        offset += array.size
    return buffer


def unflatten(buffer, arrays) -> None:
    """Copy ``buffer`` back into ``arrays`` in place (the inverse of :func:`flat_buffer`)."""
    offset = 0
    for array in arrays:
        array[...] = buffer[offset : offset + array.size].reshape(array.shape)
        offset += array.size
