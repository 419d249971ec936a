"""Starting a data-parallel job, and knowing for sure whether it succeeded.

``chainrule train ... --ranks N`` calls :func:`launch`, which runs::

    mpiexec -n N python -m mpi4py -m chainrule train ...

with the installed MPI (the ``mpich`` wheel's ``mpiexec``, found beside the
Python interpreter or on PATH). ``python -m mpi4py`` makes an uncaught
exception in any rank call ``MPI_Abort``, which ends every rank; without it
MPICH leaves the other ranks waiting forever.

MPI has no fault tolerance and its exit status is not enough to know that a
job finished (a rank that calls ``os._exit(0)`` early makes ``mpiexec``
report success although the job did not finish). So the ranks and the
launcher share a folder (``$CHAINRULE_RUN_DIR``): every rank writes its pid
when it starts (``rank-R.pid``) and a one-line error when it fails
(``rank-R.error``); rank 0 writes ``complete`` when the whole job has
succeeded. :func:`launch` reports success only when it finds ``complete``,
and otherwise prints one line naming the failed rank (from its error file,
or from the pid of the process MPICH reports killed).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

__all__ = [
    "JobReport",
    "check_ranks",
    "find_mpiexec",
    "inside_job",
    "launch",
    "max_ranks",
    "run_as_rank",
]

RUN_DIR_VARIABLE = "CHAINRULE_RUN_DIR"
MAX_RANKS_VARIABLE = "CHAINRULE_MAX_RANKS"
COMPLETE = "complete"

# MPICH's own lines about a failed job, replaced by the launcher's one-line report.
_MPI_NOISE = re.compile(
    r"^(=+$|=   |Abort\(\d+\) on node|YOUR APPLICATION TERMINATED|This typically refers|"
    r"Please see the FAQ|chainrule: error: |application called MPI_Abort|\[cli_\d+\]: )"
)


def inside_job() -> bool:
    """Whether this process is one of several ranks started by mpiexec (or :func:`launch`)."""
    from .comm import launched_ranks

    return (launched_ranks() or 1) > 1


def find_mpiexec() -> str:
    """The ``mpiexec`` of the installed MPI: beside this Python (a venv's bin/) first, then PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError(
            "chainrule.distributed: no mpiexec found beside the Python interpreter or on PATH; "
            "install the MPI extra with `pip install 'chainrule[mpi]'` (the mpich wheel has one)"
        )
    return found


def max_ranks() -> int:
    """The most ranks :func:`launch` starts: the CPU cores this process may use.

    ``$CHAINRULE_MAX_RANKS`` overrides it (for hosts files spanning several
    machines, or to oversubscribe cores on purpose).
    """
    override = os.environ.get(MAX_RANKS_VARIABLE, "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def check_ranks(ranks, option: str = "--ranks") -> int:
    """``ranks`` as an int in 1 .. :func:`max_ranks`, or ValueError naming ``option``."""
    if isinstance(ranks, bool) or not isinstance(ranks, int):
        raise TypeError(f"{option}: expected an int, received {type(ranks).__name__}")
    limit = max_ranks()
    if ranks < 1 or ranks > limit:
        raise ValueError(
            f"{option}: expected 1 to {limit} ranks (the CPU cores available here; set "
            f"{MAX_RANKS_VARIABLE} to allow more), received {ranks}"
        )
    return ranks


class JobReport:
    """What one rank of a launched job tells the launcher, through files in the run folder."""

    def __init__(self, run_dir: str, rank: int, size: int):
        self.run_dir, self.rank, self.size = run_dir, rank, size

    @classmethod
    def current(cls) -> JobReport | None:
        """The report of this process when :func:`launch` started it, else None."""
        run_dir = os.environ.get(RUN_DIR_VARIABLE)
        if not run_dir:
            return None
        from .comm import world

        comm = world()
        return cls(run_dir, comm.rank, comm.size)

    def _write(self, name: str, text: str) -> None:
        path = os.path.join(self.run_dir, name)
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)

    def started(self) -> None:
        self._write(f"rank-{self.rank}.pid", str(os.getpid()))

    def failed(self, message: str) -> None:
        self._write(f"rank-{self.rank}.error", " ".join(str(message).split()))

    def completed(self) -> None:
        """Rank 0 marks the job complete (only once every rank got here)."""
        if self.rank == 0:
            self._write(COMPLETE, "ok")


def run_as_rank(function, *args):
    """Call ``function(*args)`` as one rank of a launched job, reporting how it ended.

    A raised exception is written to ``rank-R.error`` and re-raised, a
    nonzero return status is reported likewise and returned (under ``python
    -m mpi4py`` either one aborts the whole job). When every rank has
    returned 0, rank 0 writes the completion marker. Ranks other than 0 run
    with stdout silenced. Outside a launched job this is just ``function(*args)``.
    """
    report = JobReport.current()
    if report is None:
        return function(*args)
    report.started()
    try:
        if report.rank == 0:
            status = function(*args)
        else:  # only rank 0 prints
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                status = function(*args)
    except BaseException as error:
        report.failed(f"{type(error).__name__}: {error}")
        raise
    if status:
        report.failed(f"exit status {status}")
        return status
    from .comm import world

    world().barrier()  # every rank got here: the job is complete
    report.completed()
    return status


def _rank_of_pid(run_dir: str, size: int, pid: int) -> int | None:
    for rank in range(size):
        try:
            with open(os.path.join(run_dir, f"rank-{rank}.pid"), encoding="utf-8") as handle:
                if int(handle.read().strip() or -1) == pid:
                    return rank
        except (OSError, ValueError):
            continue
    return None


def _failure(run_dir: str, size: int, status: int, lines: list[str]) -> str:
    """One line saying which rank failed and how."""
    for rank in range(size):
        path = os.path.join(run_dir, f"rank-{rank}.error")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                return f"rank {rank} of {size} failed: {handle.read().strip()}"
    text = "\n".join(lines)
    pid = re.search(r"PID (\d+)", text)
    code = re.search(r"(?:EXIT CODE|KILLED BY SIGNAL): (\d+)", text)
    if pid:
        rank = _rank_of_pid(run_dir, size, int(pid.group(1)))
        who = f"rank {rank} of {size}" if rank is not None else f"process {pid.group(1)}"
        how = ""
        if code:
            number = int(code.group(1))
            named = f", {signal.Signals(number).name}" if number in signal.valid_signals() else ""
            how = f" (exit code {number}{named})"
        return f"{who} died{how}"
    started = [r for r in range(size) if os.path.isfile(os.path.join(run_dir, f"rank-{r}.pid"))]
    missing = sorted(set(range(size)) - set(started))
    if missing:
        return f"rank {missing[0]} of {size} never started (exit status {status})"
    return (f"the job ended with exit status {status} but rank 0 wrote no completion marker: "
            "a rank exited before the job finished")


def launch(program: list[str], ranks: int, *, run_dir: str | None = None,
           timeout: float | None = None, name: str = "chainrule", stream=None) -> int:
    """Run ``python -m mpi4py <program>`` on ``ranks`` processes; return 0 only on complete success.

    Parameters
    ----------
    program : list of str
        What follows ``python -m mpi4py``: ``["-m", "chainrule", "train", ...]``
        or ``["script.py", ...]``. The program must call :func:`run_as_rank`
        (``chainrule train`` does) so that rank 0 writes the completion marker.
    ranks : int
        1 to :func:`max_ranks`.
    run_dir : str, optional
        The folder the ranks report into (default: a fresh temporary folder,
        removed afterwards; ``$CHAINRULE_RUN_DIR`` when set).
    timeout : float, optional
        Seconds after which the whole job is killed and reported as failed.
    name : str
        The prefix of the one-line report (``"chainrule train"``).
    stream : file, optional
        Where the job's output is copied (default: ``sys.stdout``).

    Returns
    -------
    int
        0 when rank 0 wrote the completion marker and mpiexec exited with 0;
        otherwise mpiexec's nonzero status (or 1), after one line on stderr
        naming the rank that failed.
    """
    ranks = check_ranks(ranks)
    stream = sys.stdout if stream is None else stream
    mpiexec = find_mpiexec()
    given = run_dir or os.environ.get(RUN_DIR_VARIABLE)
    folder = given or tempfile.mkdtemp(prefix="chainrule-job-")
    os.makedirs(folder, exist_ok=True)
    for stale in os.listdir(folder):
        if stale == COMPLETE or stale.startswith("rank-"):
            os.remove(os.path.join(folder, stale))
    env = dict(os.environ, **{RUN_DIR_VARIABLE: folder})
    threads = str(max(1, max_ranks() // ranks))
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, threads)
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", *program]
    lines: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True, bufsize=1)

    def copy_output():
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            del lines[:-400]
            if not _MPI_NOISE.match(line):
                stream.write(line)
                stream.flush()

    reader = threading.Thread(target=copy_output, daemon=True)
    reader.start()
    timed_out = False
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    if timed_out:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        reader.join(timeout=5)
        print(f"{name}: the job did not finish within {timeout:g} s; all ranks were killed",
              file=sys.stderr)
        status = 124
    else:
        reader.join(timeout=5)
        status = 128 - status if status < 0 else status  # killed by a signal
        complete = os.path.isfile(os.path.join(folder, COMPLETE))
        if status == 0 and complete:
            if not given:
                shutil.rmtree(folder, ignore_errors=True)
            return 0
        print(f"{name}: {_failure(folder, ranks, status, lines)}", file=sys.stderr)
    if not given:
        shutil.rmtree(folder, ignore_errors=True)
    return status or 1
