"""The equivalence guarantee under real mpiexec.

P ranks with local batches of B/P give the parameters of one process with
batch B (float64, 1e-10, after 3 epochs with shuffling, uneven shards and an
empty shard in the last batch), for an MLP and a CNN with (synchronised)
BatchNorm, with SGD+momentum and Adam; the distributed validation and test
accuracies equal the single-process ones exactly; a run resumed from rank 0's
checkpoint continues bit-identically. Every mpiexec has a timeout.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("mpi4py")
from tests.distributed import mpi_worker

from chainrule.distributed.launch import find_mpiexec

try:
    MPIEXEC = find_mpiexec()
except FileNotFoundError:  # pragma: no cover
    pytest.skip("no mpiexec installed", allow_module_level=True)

WORKER = os.path.join(os.path.dirname(__file__), "mpi_worker.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def run_under_mpiexec(ranks, out):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(ROOT, "src"),
                                                      env.get("PYTHONPATH")]))
    finished = subprocess.run([MPIEXEC, "-n", str(ranks), sys.executable, "-m", "mpi4py", WORKER,
                               str(out)], check=False, capture_output=True, text=True,
                              timeout=240, env=env)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with open(out / "accuracy.json") as handle:
        accuracy = json.load(handle)
    assert accuracy["world_size"] == ranks
    return dict(np.load(out / "results.npz")), accuracy


@pytest.fixture(scope="module")
def single_process():
    return {config: mpi_worker.run(config) for config in mpi_worker.CONFIGS}


def check_equivalence(ranks, out, single_process):
    results, accuracy = run_under_mpiexec(ranks, out)
    for config, (state, val, test) in single_process.items():
        for name, value in state.items():
            np.testing.assert_allclose(results[f"{config}/{name}"], value, rtol=0, atol=1e-10,
                                       err_msg=f"{config} {name} with {ranks} ranks")
        assert accuracy[config]["val"] == val, config
        assert accuracy[config]["test"] == test, config
    for name in (k[len("whole/"):] for k in results if k.startswith("whole/")):
        np.testing.assert_array_equal(results[f"resumed/{name}"], results[f"whole/{name}"])


def test_two_ranks_equal_one_process(tmp_path, single_process):
    check_equivalence(2, tmp_path, single_process)


@pytest.mark.slow
def test_three_ranks_equal_one_process(tmp_path, single_process):
    check_equivalence(3, tmp_path, single_process)
