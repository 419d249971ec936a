"""The core packages type-check: mypy, configured in pyproject.toml ([tool.mypy]), reports nothing.

Run here so a change that breaks the types fails ``python -m pytest`` before it is merged.
"""

import os
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]


def test_core_packages_type_check():
    previous = os.getcwd()
    os.chdir(ROOT)  # mypy reads [tool.mypy] from the pyproject.toml in the working directory
    try:
        report, errors, status = mypy_api.run(["--no-incremental", "--no-error-summary"])
    finally:
        os.chdir(previous)
    assert status == 0, f"mypy found problems (run `mypy` for the same report):\n{report}{errors}"
