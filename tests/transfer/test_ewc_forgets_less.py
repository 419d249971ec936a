"""EWC measurably forgets less than plain fine-tuning (examples/continual_ewc.py)."""

import importlib.util
import os

import numpy as np
import pytest

from chainrule.transfer import forgetting

pytest.importorskip("sklearn")

_EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "continual_ewc.py")


def _example():
    spec = importlib.util.spec_from_file_location("continual_ewc", _EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_seed_forgets_less_with_ewc():
    example = _example()
    plain = forgetting(example.run(0, 0.0, epochs=10))
    ewc = forgetting(example.run(0, 100.0, epochs=10))
    assert ewc < plain - 0.05, (plain, ewc)


@pytest.mark.slow
def test_five_seeds_forget_less_with_ewc_by_a_wide_margin():
    example = _example()
    plain = [forgetting(example.run(seed, 0.0)) for seed in range(5)]
    ewc = [forgetting(example.run(seed, 100.0)) for seed in range(5)]
    assert all(e < p for e, p in zip(ewc, plain, strict=True))
    assert np.mean(plain) - np.mean(ewc) > 0.1
