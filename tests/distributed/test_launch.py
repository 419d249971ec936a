"""The launcher under real mpiexec: success only with rank 0's marker; one line names a failed rank.

Each job is a few lines of Python run by ``python -m mpi4py -c``; every
launch has a timeout, so a hang fails the test instead of blocking CI.
"""

import os
import time

import pytest

pytest.importorskip("mpi4py")
from chainrule.distributed import launch as launcher

try:
    launcher.find_mpiexec()
except FileNotFoundError:  # pragma: no cover
    pytest.skip("no mpiexec installed", allow_module_level=True)

JOB = """
import os, signal, sys, time
from chainrule.distributed.comm import world
from chainrule.distributed.launch import run_as_rank

def main():
    comm = world()
    fault = {fault!r}
    if comm.rank == 1 and fault == "raise":
        raise RuntimeError("boom in the data")
    if comm.rank == 1 and fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if comm.rank == 1 and fault == "exit0":
        os._exit(0)
    if comm.rank == 1 and fault == "status":
        return 3
    comm.barrier()
    print("rank", comm.rank, "finished")
    return 0

sys.exit(run_as_rank(main))
"""


@pytest.fixture(autouse=True)
def _two_ranks_allowed(monkeypatch):
    monkeypatch.setenv(launcher.MAX_RANKS_VARIABLE, "4")
    monkeypatch.delenv(launcher.RUN_DIR_VARIABLE, raising=False)


def run_job(fault, tmp_path, capsys):
    started = time.monotonic()
    status = launcher.launch(["-c", JOB.format(fault=fault)], 2, run_dir=str(tmp_path),
                             timeout=60, name="job")
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    return status, elapsed, captured.out, captured.err.strip().splitlines()


def test_success_needs_the_completion_marker_and_only_rank_0_prints(tmp_path, capsys):
    status, _, out, err = run_job(None, tmp_path, capsys)
    assert status == 0, err
    assert os.path.isfile(tmp_path / launcher.COMPLETE)
    assert out.splitlines() == ["rank 0 finished"]


@pytest.mark.parametrize("fault,message", [
    ("raise", "job: rank 1 of 2 failed: RuntimeError: boom in the data"),
    ("status", "job: rank 1 of 2 failed: exit status 3"),
    ("kill", "job: rank 1 of 2 died (exit code 9, SIGKILL)"),
    ("exit0", "rank 0 wrote no completion marker"),
])
def test_a_failing_rank_ends_the_job_with_one_line_naming_it(fault, message, tmp_path, capsys):
    status, elapsed, _, err = run_job(fault, tmp_path, capsys)
    assert status != 0
    assert elapsed < 60
    assert not os.path.isfile(tmp_path / launcher.COMPLETE)
    assert len(err) == 1 and message in err[0], err


def test_ranks_out_of_range(monkeypatch):
    monkeypatch.setenv(launcher.MAX_RANKS_VARIABLE, "2")
    with pytest.raises(ValueError, match=r"--ranks: expected 1 to 2 ranks .* received 3"):
        launcher.check_ranks(3)
    with pytest.raises(ValueError, match="received 0"):
        launcher.check_ranks(0)
    with pytest.raises(TypeError, match="expected an int"):
        launcher.check_ranks("2")


def test_missing_mpiexec_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setattr(launcher.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"chainrule\[mpi\]"):
        launcher.find_mpiexec()
