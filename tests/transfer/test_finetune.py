import numpy as np
import pytest

from chainrule import nn, optim
from chainrule.transfer import find_head, fine_tune, load_pretrained, param_groups, replace_head


def backbone_model(seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 8, generator=g), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 10, generator=g)
    )


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)


def test_replace_head_keeps_the_backbone_and_checks_the_input_size():
    model = backbone_model()
    body = model[0].weight.data.copy()
    head = replace_head(model, 3, generator=1)
    assert model[3] is head and head.weight.shape == (3, 8)
    assert np.array_equal(model[0].weight.data, body)
    assert find_head(model) == "3"
    with pytest.raises(ValueError, match="takes 5 inputs, but the backbone gives 8"):
        replace_head(model, nn.Linear(5, 2))
    with pytest.raises(ValueError, match=">= 1"):
        replace_head(model, 0)
    with pytest.raises(ValueError, match="no submodule"):
        replace_head(model, 2, head="classifier")


def test_nested_head_is_found_and_recorded_outputs_follow():
    class Wrapped(nn.Module):
        def __init__(self):
            super().__init__()
            self.num_outputs = 10
            self.net = backbone_model()

        def forward(self, x):
            return self.net(x)

    model = Wrapped()
    assert find_head(model) == "net.3"
    replace_head(model, 4)
    assert model.net[3].out_features == 4 and model.num_outputs == 4


def test_param_groups_scale_the_backbone():
    model = backbone_model()
    groups = param_groups(model, 0.1, backbone_lr_scale=0.25)
    assert [g["name"] for g in groups] == ["backbone", "head"]
    assert groups[0]["lr"] == pytest.approx(0.025) and groups[1]["lr"] == 0.1
    assert len(groups[0]["params"]) == 4 and len(groups[1]["params"]) == 2


def test_fine_tune_stage_one_leaves_the_backbone_and_its_statistics_untouched(data):
    model = backbone_model()
    model(data[0])  # running statistics to keep
    replace_head(model, 3, generator=1)
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    history = fine_tune(
        model,
        data,
        loss="cross_entropy",
        epochs=1,
        freeze_epochs=2,
        lr=1e-2,
        backbone_lr_scale=0.0,
        optimizer="sgd",
        batch_size=16,
        generator=0,
        progress=False,
        verbose=0,
    )
    assert history.history["stage"] == [1.0, 1.0, 2.0]
    after = model.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.bias"):  # lr 0 in stage 2: never moved
        assert np.array_equal(after[key], before[key]), key
    assert np.array_equal(after["1.running_mean"][:0], before["1.running_mean"][:0])
    assert not np.array_equal(after["3.weight"], before["3.weight"])
    assert all(p.requires_grad for p in model.parameters())  # unfrozen for stage 2


def test_fine_tune_stage_one_matches_training_the_head_alone(data):
    from chainrule.train import fit

    a = backbone_model()
    replace_head(a, 3, generator=1)
    history = fine_tune(
        a,
        data,
        loss="cross_entropy",
        epochs=1,
        freeze_epochs=2,
        lr=1e-2,
        optimizer="sgd",
        batch_size=16,
        generator=0,
        progress=False,
        verbose=0,
    )
    b = backbone_model()
    replace_head(b, 3, generator=1)
    b.freeze()
    b[3].unfreeze()
    manual = fit(
        b,
        data,
        loss="cross_entropy",
        optimizer=optim.SGD(b[3].parameters(), lr=1e-2),
        epochs=2,
        batch_size=16,
        generator=0,
        progress=False,
        verbose=0,
    )
    assert history.history["loss"][:2] == manual.history["loss"]


def test_load_pretrained_from_a_state_dict_file_with_a_new_head(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.numpy import save_file

    source = backbone_model(seed=3)
    save_file(
        {k: np.ascontiguousarray(v) for k, v in source.state_dict().items()},
        str(tmp_path / "pretrained.safetensors"),
    )
    target = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    report = load_pretrained(target, tmp_path / "pretrained.safetensors")
    assert report["skipped"] == ["3.weight", "3.bias"]
    assert np.array_equal(target[0].weight.data, source[0].weight.data)
    assert target[3].weight.shape == (2, 8)
    with pytest.raises(ValueError, match="no weight"):
        load_pretrained(nn.Linear(3, 3), tmp_path / "pretrained.safetensors")
    with pytest.raises(FileNotFoundError):
        load_pretrained(target, tmp_path / "missing.safetensors")
