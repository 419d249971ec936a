"""A communicator for P simulated ranks in one process: one thread per rank.

``run_ranks(P, fn)`` calls ``fn(comm)`` on P threads, each with its own
:class:`ThreadCommunicator`, and returns the P results in rank order. Every
collective waits for all P threads (a barrier) and combines their arrays in
rank order, as MPI does.
"""

from __future__ import annotations

import threading

import numpy as np


class _World:
    def __init__(self, size):
        self.size = size
        self.barrier = threading.Barrier(size, timeout=30)
        self.slots = [None] * size


class ThreadCommunicator:
    def __init__(self, world, rank):
        self.world, self.rank, self.size = world, rank, world.size

    def _exchange(self, value):
        self.world.slots[self.rank] = value
        self.world.barrier.wait()
        values = list(self.world.slots)
        self.world.barrier.wait()
        return values

    def allreduce_sum(self, array):
        values = self._exchange(array.copy())
        total = values[0].copy()
        for value in values[1:]:
            total += value
        array[...] = total
        return array

    def broadcast(self, array, root=0):
        array[...] = self._exchange(array.copy())[root]
        return array

    def broadcast_object(self, obj, root=0):
        return self._exchange(obj)[root]

    def allgather_object(self, obj):
        return self._exchange(obj)

    def barrier(self):
        self._exchange(None)

    def abort(self, status=1):  # pragma: no cover - never reached in tests
        raise RuntimeError(f"abort({status})")


def run_ranks(size, fn):
    world = _World(size)
    results, errors = [None] * size, []

    def target(rank):
        try:
            results[rank] = fn(ThreadCommunicator(world, rank))
        except BaseException as error:  # noqa: BLE001 - reported to the caller below
            errors.append(error)
            world.barrier.abort()

    threads = [threading.Thread(target=target, args=(rank,)) for rank in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def shards(x, sizes):
    """Split the rows of ``x`` into consecutive pieces of the given sizes."""
    return np.split(x, np.cumsum(sizes)[:-1])
