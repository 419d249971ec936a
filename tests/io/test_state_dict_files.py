"""save_state_dict / load_state_dict: round trips, errors, and PyTorch's safetensors (optional)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.io import ModelFileError


def _model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def test_round_trip_restores_every_parameter_and_buffer(tmp_path):
    source, target = _model(), _model()
    source[1].running_mean[...] = [0.5, -1.0]
    path = tmp_path / "weights.safetensors"
    cr.save_state_dict(source, path)
    state = cr.load_state_dict(path)
    assert set(state) == set(source.state_dict())
    target.load_state_dict(state)
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)
        assert target.state_dict()[key].dtype == value.dtype
    assert state["1.num_batches_tracked"].dtype == np.int64


def test_a_mapping_of_tensors_is_accepted_and_the_write_is_atomic(tmp_path):
    path = tmp_path / "w.safetensors"
    cr.save_state_dict({"a": cr.tensor([1.0, 2.0]), "b": np.arange(3)}, path)
    cr.save_state_dict({"a": np.zeros(2)}, path)  # replaces the file
    assert list(cr.load_state_dict(path)) == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temporary left


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(TypeError, match="mapping"):
        cr.save_state_dict(42, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="keys must be strings"):
        cr.save_state_dict({1: np.zeros(1)}, tmp_path / "x.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ModelFileError, match="bad.safetensors"):
        cr.load_state_dict(bad)


def test_pytorch_reads_our_file_and_we_read_pytorchs(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    ours = _model()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 3)
    )
    cr.save_state_dict(ours, tmp_path / "ours.safetensors")
    theirs.load_state_dict(safetensors_torch.load_file(str(tmp_path / "ours.safetensors")))
    x = np.random.default_rng(0).normal(size=(2, 1, 4, 4)).astype(np.float32)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-6)
    for p in theirs.parameters():
        torch.nn.init.normal_(p)
    safetensors_torch.save_file(theirs.state_dict(), str(tmp_path / "theirs.safetensors"))
    ours.load_state_dict(cr.load_state_dict(tmp_path / "theirs.safetensors"))
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-5, atol=1e-5)
