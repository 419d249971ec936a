"""ruff, with the rules and line length of pyproject.toml ([tool.ruff]), reports nothing.

Run here so a change that breaks the lint fails ``python -m pytest`` before it is merged.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ruff")

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check . found problems:\n{result.stdout}{result.stderr}"
