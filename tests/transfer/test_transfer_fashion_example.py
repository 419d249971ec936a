"""examples/transfer_fashion.py runs end to end (slow: it trains on Fashion-MNIST)."""

import os
import subprocess
import sys

import pytest

from chainrule.data import datasets

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "transfer_fashion.py")


@pytest.mark.slow
def test_transfer_fashion_runs():
    if "fashion-mnist" not in datasets.available():
        pytest.skip("Fashion-MNIST is not installed (Debian: dataset-fashion-mnist)")
    result = subprocess.run([sys.executable, EXAMPLE, "--seeds", "1", "--epochs", "4",
                             "--pretrain-epochs", "1", "--per-class", "20"],
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    assert "| from scratch |" in result.stdout and "fine-tuned |" in result.stdout
