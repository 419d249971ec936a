import numpy as np
import pytest

import chainrule.functional as F
from chainrule import nn, optim


def make_model(seed=0):
    g = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(4, 8, generator=g), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3, generator=g)
    )


def train(model, opt, steps=5, seed=0):
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        X = rng.normal(size=(16, 4)).astype(np.float32)
        y = rng.integers(0, 3, 16)
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda p: optim.Adam(p, lr=0.01),
        lambda p: optim.AdamW(p, lr=0.01),
    ],
)
def test_frozen_weights_and_running_stats_are_bit_identical(make_opt):
    model = make_model()
    train(model, optim.SGD(model.parameters(), lr=0.1))  # non-trivial running stats
    model.freeze(up_to=1)
    before = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}
    opt = make_opt(model.parameters())
    train(model, opt, seed=1)
    after = model.state_dict()
    for key in (
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ):
        assert np.array_equal(after[key], before[key]), key
    assert not np.array_equal(after["3.weight"], before["3.weight"])
    frozen = [model[0].weight, model[0].bias, model[1].weight, model[1].bias]
    assert all(p not in opt.state for p in frozen)
    assert all(p.grad is None for p in frozen)


def test_frozen_batchnorm_in_train_mode_normalises_with_running_stats():
    model = make_model()
    train(model, optim.SGD(model.parameters(), lr=0.1))
    bn = model[1]
    x = np.random.default_rng(3).normal(size=(10, 8)).astype(np.float32)
    bn.freeze()
    bn.train()
    out = bn(x).detach().numpy()
    expected = (x - bn.running_mean) / np.sqrt(
        bn.running_var + bn.eps
    ) * bn.weight.data + bn.bias.data
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    bn.unfreeze()
    batch = bn(x).detach().numpy()  # batch statistics again
    np.testing.assert_allclose(batch.mean(axis=0), bn.bias.data, atol=1e-5)


def test_gradient_flows_through_a_frozen_layer():
    model = make_model()
    model[3].freeze()
    X = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    F.cross_entropy(model(X), np.array([0, 1, 2, 0])).backward()
    assert model[0].weight.grad is not None and np.abs(model[0].weight.grad).sum() > 0
    assert model[3].weight.grad is None


def test_freeze_then_unfreeze_restores_training():
    model = make_model()
    model.freeze()
    assert all(not p.requires_grad for p in model.parameters()) and model[1].frozen
    model.unfreeze()
    assert all(p.requires_grad for p in model.parameters()) and not model[1].frozen


def test_freeze_up_to_negative_index():
    model = make_model()
    model.freeze(up_to=-2)  # everything but the last Linear
    assert [p.requires_grad for p in model.parameters()] == [False] * 4 + [True] * 2


@pytest.mark.parametrize("up_to, error", [("head", ValueError), (7, ValueError), (1.5, TypeError)])
def test_freezing_a_name_that_does_not_exist(up_to, error):
    with pytest.raises(error, match="freeze"):
        make_model().freeze(up_to=up_to)
