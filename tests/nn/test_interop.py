"""Interop with PyTorch through safetensors state dicts.

The default tests use the committed fixture (PyTorch's key names, shapes and
dtypes, written by tests/fixtures/make_fixture.py) and need no torch; the
last test builds the same model in torch when it is installed.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import chainrule as cr
from chainrule import nn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
STATE_FILE = FIXTURES / "mlp_bn_4_8_3.safetensors"
IO_FILE = FIXTURES / "mlp_bn_4_8_3_io.safetensors"


def build_model(seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 8, generator=g), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3, generator=g)
    )


def test_fixture_loads_strictly_and_reproduces_reference_output():
    model = build_model()
    model.load_state_dict(load_file(str(STATE_FILE)))
    model.eval()
    io = load_file(str(IO_FILE))
    with cr.no_grad():
        out = model(io["input"])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, io["output"], rtol=1e-5, atol=1e-6)
    assert int(model[1].num_batches_tracked) == 7


def test_saved_state_dict_has_pytorch_keys_shapes_and_dtypes(tmp_path):
    model = build_model(seed=3)
    # one training step on the BatchNorm buffers
    model(np.random.default_rng(0).normal(size=(6, 4)))
    path = tmp_path / "model.safetensors"
    save_file(dict(model.state_dict()), str(path))
    ours = load_file(str(path))
    reference = load_file(str(STATE_FILE))
    assert list(ours) == list(reference) or sorted(ours) == sorted(reference)
    for key, value in reference.items():
        assert ours[key].shape == value.shape, key
        assert ours[key].dtype == value.dtype, key
    # and back into a fresh model: identical outputs
    other = build_model(seed=9)
    other.load_state_dict(ours)
    model.eval()
    other.eval()
    x = np.random.default_rng(1).normal(size=(4, 4))
    np.testing.assert_array_equal(model(x).data, other(x).data)


def test_fixture_matches_its_generator_script():
    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURES / "make_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = load_file(str(STATE_FILE))
    rebuilt = module.build_state()
    assert sorted(committed) == sorted(rebuilt)
    for key in rebuilt:
        np.testing.assert_array_equal(committed[key], rebuilt[key])
        assert committed[key].dtype == rebuilt[key].dtype


def test_with_torch_both_directions(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file as torch_load
    from safetensors.torch import save_file as torch_save

    def torch_model():
        return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                                   torch.nn.Linear(8, 3))

    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)

    # chainrule → PyTorch (after a training step, so the running statistics are non-trivial)
    ours = build_model(seed=1)
    ours(np.random.default_rng(2).normal(size=(6, 4)))
    ours.eval()
    path = tmp_path / "ours.safetensors"
    save_file(dict(ours.state_dict()), str(path))
    theirs = torch_model()
    theirs.load_state_dict(torch_load(str(path)), strict=True)
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-6)

    # PyTorch → chainrule, including one training-mode batch through both
    theirs = torch_model()
    ours = build_model(seed=4)
    batch = np.random.default_rng(3).normal(size=(6, 4)).astype(np.float32)
    path = tmp_path / "theirs.safetensors"
    torch_save({k: v.contiguous() for k, v in theirs.state_dict().items()}, str(path))
    ours.load_state_dict(load_file(str(path)))
    np.testing.assert_allclose(ours(batch).data, theirs(torch.from_numpy(batch)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours[1].running_var, theirs[1].running_var.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(
            ours(x).data, theirs(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6
        )
