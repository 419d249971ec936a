"""The ported "Learning PyTorch with Examples" scripts run unchanged but for the import line,
reach the least-squares floor's neighbourhood, and (with PyTorch installed) print the same
losses as PyTorch from the same initial weights."""

import pathlib
import re

import numpy as np
import pytest

import chainrule as cr

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = ["tensor", "autograd", "nn", "optim", "module"]


def _least_squares_floor() -> float:
    """min over (a, b, c, d) of Σ (a + bx + cx² + dx³ − sin x)², in float64."""
    x = np.linspace(-np.pi, np.pi, 2000)
    features = np.stack([np.ones_like(x), x, x ** 2, x ** 3], axis=1)
    coefficients, *_ = np.linalg.lstsq(features, np.sin(x), rcond=None)
    return float(((features @ coefficients - np.sin(x)) ** 2).sum())


def _run(source: str, path: pathlib.Path, namespace: dict) -> None:
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own example files


def _losses(output: str) -> list:
    return [float(m.group(1)) for m in re.finditer(r"^\d+ (\S+)$", output, re.MULTILINE)]


@pytest.mark.parametrize("name", SCRIPTS)
def test_ported_tutorial_runs_and_learns(name, capsys):
    path = EXAMPLES / f"pytorch_polynomial_{name}.py"
    source = path.read_text()
    assert "import chainrule as torch" in source and "import torch" not in source
    cr.manual_seed(0)
    _run(source, path, {"__name__": "__main__"})
    output = capsys.readouterr().out
    losses = _losses(output)
    assert len(losses) == 20  # one line every 100 of the 2000 steps
    floor = _least_squares_floor()  # ≈ 8.82: no cubic does better
    assert losses[-1] >= floor * (1 - 1e-4)
    assert losses[-1] < min(3 * floor, losses[0])
    assert "Result: y = " in output


@pytest.mark.parametrize("name", ["tensor", "autograd", "module"])
def test_ported_tutorial_matches_pytorch_from_the_same_weights(name, capsys):
    torch = pytest.importorskip("torch")
    path = EXAMPLES / f"pytorch_polynomial_{name}.py"
    source = path.read_text().replace("torch.randn(", "_initial(torch, ")

    def run(library_source):
        values = iter([0.3, -0.7, 0.2, 0.5])

        def initial(library, size, device=None, dtype=None, requires_grad=False):
            return library.tensor(next(values), dtype=dtype or library.float,
                                  requires_grad=requires_grad)

        _run(library_source, path, {"__name__": "__main__", "_initial": initial})
        return _losses(capsys.readouterr().out)

    ours = run(source)
    theirs = run(source.replace("import chainrule as torch", "import torch"))
    assert torch.get_default_dtype() == torch.float32
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)
