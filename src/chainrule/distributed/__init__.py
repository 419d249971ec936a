"""Training beyond one process: data parallelism over MPI (mpi4py), and data larger than memory.

How it works, in five steps (details in :mod:`chainrule.distributed.strategy`):

1. a launcher starts P copies of the same program (``mpiexec -n P python -m mpi4py ...``,
   or ``chainrule train ... --ranks P``, see :mod:`chainrule.distributed.launch`);
2. :class:`DataParallel` checks that every process built the same model and
   loaded the same data, then copies rank 0's parameters, buffers and
   generators to the others;
3. ``fit`` builds the same global batch on every process and each process
   runs forward and backward on its contiguous shard of it;
4. one Allreduce per step sums the shard gradients, weighted by shard size,
   into the gradient of the global batch's mean loss, so every process takes
   the same optimizer step one process would take on the whole batch;
   :class:`SyncBatchNorm` does the same for BatchNorm's statistics;
5. metrics are reduced as sums (every sample counted once) and rank 0 alone
   prints and writes files.

mpi4py is imported only when a communicator is made: ``pip install 'chainrule[mpi]'``.
"""

from .comm import LocalCommunicator, MPICommunicator, world
from .sampler import DistributedSampler, shard_bounds
from .strategy import DataParallel
from .sync_batchnorm import (
    SyncBatchNorm,
    convert_sync_batchnorm,
    revert_sync_batchnorm,
    sync_batch_norm,
)

__all__ = [
    "DataParallel",
    "DistributedSampler",
    "LocalCommunicator",
    "MPICommunicator",
    "SyncBatchNorm",
    "convert_sync_batchnorm",
    "revert_sync_batchnorm",
    "shard_bounds",
    "sync_batch_norm",
    "world",
]
