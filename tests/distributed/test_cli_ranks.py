"""``chainrule train --ranks N``: the launch, bad values of --ranks, and a rank killed mid-run."""

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("mpi4py")
from chainrule.cli import main
from chainrule.distributed import launch as launcher

try:
    launcher.find_mpiexec()
except FileNotFoundError:  # pragma: no cover
    pytest.skip("no mpiexec installed", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def chainrule(*argv, run_dir=None):
    """Start ``python -m chainrule`` as a user would, with this checkout's sources."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    env[launcher.MAX_RANKS_VARIABLE] = "2"
    env.pop(launcher.RUN_DIR_VARIABLE, None)
    if run_dir is not None:
        env[launcher.RUN_DIR_VARIABLE] = str(run_dir)
    return subprocess.Popen([sys.executable, "-m", "chainrule", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_two_ranks_train_and_only_rank_0_prints(tmp_path):
    process = chainrule("train", "--data", "xor", "--epochs", "2", "--ranks", "2",
                        "--out", str(tmp_path / "run"))
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    assert out.count("Epoch 2/2") == 1 and out.count("run folder:") == 1
    assert {"run.json", "model", "checkpoint.safetensors", "metrics.json"} <= set(
        os.listdir(tmp_path / "run"))


@pytest.mark.parametrize("ranks,message", [("0", "--ranks"), ("3", "--ranks: expected 1 to 2")])
def test_bad_ranks_is_one_line(ranks, message, capsys, monkeypatch):
    monkeypatch.setenv(launcher.MAX_RANKS_VARIABLE, "2")
    monkeypatch.delenv(launcher.RUN_DIR_VARIABLE, raising=False)
    assert main(["train", "--data", "xor", "--ranks", ranks]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_a_killed_rank_ends_the_job_and_keeps_the_last_checkpoint(tmp_path):
    from chainrule.io import load_checkpoint

    run_dir, out = tmp_path / "job", tmp_path / "run"
    process = chainrule("train", "--data", "digits", "--epochs", "200", "--ranks", "2",
                        "--out", str(out), run_dir=run_dir)
    checkpoint = out / ".partial" / "checkpoint.safetensors"
    deadline = time.monotonic() + 90
    while not (checkpoint.exists() and (run_dir / "rank-1.pid").exists()):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    os.kill(int((run_dir / "rank-1.pid").read_text()), signal.SIGKILL)
    killed = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - killed < 60
    assert process.returncode != 0
    assert err.strip().splitlines()[-1].startswith("chainrule train: rank 1 of 2 died"), err
    assert not (run_dir / launcher.COMPLETE).exists()
    assert load_checkpoint(checkpoint).epoch >= 1  # the last good checkpoint is whole


def test_mpi_not_installed_names_the_extra(monkeypatch):
    from chainrule.distributed import DataParallel

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[mpi\]'"):
        DataParallel()
