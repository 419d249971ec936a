"""chainrule.backend is the one switch for the array library."""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule import backend

PACKAGE = Path(chainrule.__file__).parent
ARRAY_LIBRARIES = {"numpy", "scipy", "cupy", "cupyx"}


def imported_roots(tree: ast.AST):
    """(line, top-level module) of every import statement in ``tree``, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".")[0]


def test_no_module_but_backend_imports_an_array_library():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "backend.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line} imports {root}"
                      for line, root in imported_roots(tree) if root in ARRAY_LIBRARIES]
    assert not offenders, ("reach the array library through chainrule.backend "
                           "(xp, host or a function there):\n" + "\n".join(offenders))


def test_the_import_check_finds_imports_at_any_depth():
    tree = ast.parse("def f():\n    import numpy.linalg\n    from scipy.special import erf\n")
    assert [root for _, root in imported_roots(tree)] == ["numpy", "scipy"]


def test_erf_matches_math_erf_everywhere():
    x = np.linspace(-7, 7, 2801)
    edges = [0.0, -0.0, 1e-300, -1e-12, 2.9999999, 3.0, 5.9999, 6.0, 40.0, -np.inf, np.inf]
    x = np.concatenate([x, edges])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(backend.erf(x), expected, rtol=4e-15, atol=0)
    assert np.isnan(backend.erf(np.array([np.nan]))).all()
    assert math.copysign(1.0, backend.erf(np.array([-0.0]))[0]) == -1.0


def test_erf_keeps_the_dtype_and_shape():
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    result = backend.erf(x)
    assert result.dtype == np.float32 and result.shape == (3, 4)
    np.testing.assert_allclose(result, [[math.erf(v) for v in row] for row in x.astype(np.float64)],
                               rtol=1e-7)
    assert backend.erf(np.float64(0.5)).shape == ()


def test_errstate_silences_floating_point_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with backend.errstate(divide="ignore", invalid="ignore"):
            result = np.array([1.0, 0.0]) / np.array([0.0, 0.0])
    assert result[0] == np.inf and np.isnan(result[1])
    with pytest.warns(RuntimeWarning), backend.errstate(divide="warn"):
        _ = np.array([1.0]) / np.array([0.0])


def test_scatter_add_adds_repeated_indices():
    target = np.zeros((3, 2))
    rows = np.array([0, 2, 0, 0])
    values = np.arange(8.0).reshape(4, 2)
    backend.scatter_add(target, rows, values)
    expected = np.zeros((3, 2))
    for row, value in zip(rows, values, strict=True):
        expected[row] += value
    np.testing.assert_array_equal(target, expected)


def test_draw_is_the_generators_draw():
    drawn = backend.draw(np.random.default_rng(7), "normal", 0.0, 2.0, size=(3, 2))
    np.testing.assert_array_equal(drawn, np.random.default_rng(7).normal(0.0, 2.0, size=(3, 2)))
    assert isinstance(drawn, backend.ndarray)


def test_host_round_trip():
    array = np.arange(4.0)
    assert np.array_equal(backend.to_numpy(backend.from_host(array)), array)
    assert backend.from_host([1, 2], dtype=np.float32).dtype == np.float32


def import_chainrule_with(value: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    environment[backend.BACKEND_ENV] = value
    code = "import chainrule, chainrule.backend as b; print(b.name)"
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True, timeout=120)


def test_the_backend_is_numpy_by_default():
    assert backend.name == "numpy" and backend.xp is np and backend.host is np
    assert os.environ.get(backend.BACKEND_ENV, "numpy") in ("", "numpy")


@pytest.mark.parametrize("value, message", [
    ("cupy", "CHAINRULE_BACKEND: CuPy is not supported yet, received 'cupy'"),
    ("tensorflow", "CHAINRULE_BACKEND: expected one of numpy, received 'tensorflow'"),
])
def test_an_unavailable_backend_is_a_clear_error(value, message):
    result = import_chainrule_with(value)
    assert result.returncode != 0
    assert "ImportError: " + message in result.stderr


def test_selecting_numpy_explicitly_works():
    result = import_chainrule_with(" NumPy ")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numpy"
