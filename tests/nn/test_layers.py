"""Layers: float64 gradchecks, hand-worked examples, PyTorch defaults and error messages."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck


def rng(seed=0):
    return np.random.default_rng(seed)


def x64(*shape, seed=0, requires_grad=True):
    return cr.tensor(rng(seed).normal(size=shape), dtype=np.float64, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- Linear
class TestLinear:
    def test_hand_worked(self):
        layer = nn.Linear(2, 2)
        layer.weight.data[...] = [[1.0, 2.0], [3.0, 4.0]]
        layer.bias.data[...] = [0.5, -1.0]
        y = layer(np.array([[1.0, 1.0], [0.0, 2.0]]))
        # row 1: [1+2+0.5, 3+4-1]; row 2: [4+0.5, 8-1]
        np.testing.assert_allclose(y.data, [[3.5, 6.0], [4.5, 7.0]])
        assert y.dtype == np.float32

    @pytest.mark.parametrize("bias", [True, False])
    @pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
    def test_gradcheck(self, bias, shape):
        layer = nn.Linear(4, 2, bias=bias, generator=rng(1)).double()
        x = x64(*shape)
        inputs = [x, layer.weight] + ([layer.bias] if bias else [])
        assert gradcheck(lambda *args: layer(x), inputs)

    def test_default_init_is_pytorch_bounds(self):
        layer = nn.Linear(16, 500, generator=rng(0))
        bound = 1 / math.sqrt(16)
        assert np.abs(layer.weight.data).max() <= bound
        assert np.abs(layer.weight.data).max() > 0.95 * bound  # fills U(-bound, bound)
        assert np.abs(layer.bias.data).max() <= bound
        assert np.abs(layer.bias.data).max() > 0.9 * bound
        assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01

    def test_generator_makes_init_reproducible(self):
        a = nn.Linear(3, 4, generator=rng(7))
        b = nn.Linear(3, 4, generator=rng(7))
        np.testing.assert_array_equal(a.weight.data, b.weight.data)
        b.reset_parameters(generator=rng(8))
        assert not np.array_equal(a.weight.data, b.weight.data)
        b.reset_parameters(generator=rng(7))
        np.testing.assert_array_equal(a.bias.data, b.bias.data)

    def test_wrong_feature_size(self):
        layer = nn.Linear(4, 2)
        with pytest.raises(ValueError) as err:
            layer(np.ones((3, 5)))
        assert str(err.value) == (
            "Linear(in_features=4, out_features=2): expected input with last dimension 4, received "
            "shape (3, 5)"
        )

    def test_bad_constructor_arguments(self):
        with pytest.raises(ValueError, match="in_features must be positive, received 0"):
            nn.Linear(0, 2)
        with pytest.raises(TypeError, match="out_features must be an int"):
            nn.Linear(2, 2.5)

    def test_dtype_and_config(self):
        layer = nn.Linear(4, 2, bias=False, dtype=np.float64)
        assert layer.weight.dtype == np.float64 and layer.bias is None
        assert layer(np.ones((1, 4))).dtype == np.float64
        assert layer.get_config() == {"in_features": 4, "out_features": 2, "bias": False}
        assert [n for n, _ in layer.named_parameters()] == ["weight"]

    def test_identity(self):
        x = cr.tensor([1.0, 2.0])
        assert nn.Identity(3, foo=1)(x) is x
        assert nn.Identity().get_config() == {}


# ------------------------------------------------------------------------ activations
ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (
        nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
    (nn.LogSoftmax(dim=0), lambda x: x - np.log(np.exp(x).sum(axis=0, keepdims=True))),
]


@pytest.mark.parametrize(
    "module,reference", ACTIVATIONS, ids=lambda v: repr(v) if isinstance(v, nn.Module) else ""
)
def test_activation_forward_and_gradcheck(module, reference):
    x = x64(3, 4)
    np.testing.assert_allclose(module(x).data, reference(x.data), rtol=1e-10, atol=1e-12)
    assert gradcheck(module, [x])


def test_activation_hand_worked_and_config():
    out = nn.ReLU()(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 2.0])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(np.array([-2.0, 3.0])).data, [-0.2, 3.0])
    np.testing.assert_allclose(
        nn.Softmax(dim=-1)(np.array([0.0, math.log(3.0)])).data, [0.25, 0.75]
    )
    assert nn.LeakyReLU(0.1).get_config() == {"negative_slope": 0.1}
    assert nn.Softmax(1).get_config() == {"dim": 1}
    assert nn.GELU().get_config() == {"approximate": "none"}
    assert nn.ReLU().get_config() == {}
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ------------------------------------------------------------------------- containers
class TestContainers:
    def make(self):
        return nn.Sequential(
            nn.Linear(4, 8, generator=rng(0)), nn.ReLU(), nn.Linear(8, 3, generator=rng(1))
        )

    def test_sequential_matches_manual_composition(self):
        model = self.make()
        x = rng(2).normal(size=(5, 4)).astype(np.float32)
        expected = model[2](F.relu(model[0](x)))
        np.testing.assert_allclose(model(x).data, expected.data)

    def test_sequential_indexing_len_iteration_append(self):
        model = self.make()
        assert len(model) == 3
        assert isinstance(model[1], nn.ReLU) and model[-1] is model[2]
        assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
        head = model[:2]
        assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
        model.append(nn.Softmax(dim=-1))
        assert len(model) == 4 and "3" in dict(model.named_children())
        np.testing.assert_allclose(model(np.ones((2, 4))).data.sum(axis=1), 1.0, rtol=1e-6)
        assert [n for n, _ in model.named_parameters()] == [
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
        ]
        assert model.get_config() == {}
        with pytest.raises(IndexError, match="index 9 is out of range for 4 modules"):
            model[9]
        with pytest.raises(TypeError, match="expected a Module at position 0, received int"):
            nn.Sequential(3)

    def test_sequential_from_ordered_dict(self):
        from collections import OrderedDict

        model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh())]))
        assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]
        assert model[0] is model.hidden

    def test_module_list_registers_parameters(self):
        layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
        layers.append(nn.Linear(2, 1))
        assert len(layers) == 3
        assert len(list(layers.parameters())) == 6
        layers.insert(0, nn.ReLU())
        assert isinstance(layers[0], nn.ReLU) and len(layers) == 4
        assert [n for n, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]

        class Stack(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList(nn.Linear(3, 3) for _ in range(2))

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return x

        assert [n for n, _ in Stack().named_parameters()] == [
            "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]

    def test_flatten(self):
        x = x64(2, 3, 4)
        assert nn.Flatten()(x).shape == (2, 12)
        assert nn.Flatten(0, 1)(x).shape == (6, 4)
        assert gradcheck(nn.Flatten(), [x])
        assert nn.Flatten().get_config() == {"start_dim": 1, "end_dim": -1}
        with pytest.raises(ValueError, match="start_dim=3 is out of range"):
            nn.Flatten(3)(x)


# ---------------------------------------------------------------------------- Dropout
class TestDropout:
    def test_inverted_scaling_and_eval_identity(self):
        layer = nn.Dropout(0.25, generator=rng(0))
        x = np.ones((200, 50), dtype=np.float32)
        y = layer(x).data
        assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
        assert abs((y == 0).mean() - 0.25) < 0.02
        assert abs(y.mean() - 1.0) < 0.03  # the expectation is kept
        layer.eval()
        np.testing.assert_array_equal(layer(x).data, x)

    def test_generator_reproducible(self):
        a = nn.Dropout(0.5, generator=rng(3))(np.ones((4, 4))).data
        b = nn.Dropout(0.5, generator=rng(3))(np.ones((4, 4))).data
        np.testing.assert_array_equal(a, b)

    def test_gradcheck_with_fixed_mask(self):
        x = x64(3, 4)
        assert gradcheck(lambda t: nn.Dropout(0.5, generator=rng(1))(t), [x])

    def test_bad_p(self):
        with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], received 1.5"):
            nn.Dropout(1.5)
        assert nn.Dropout(0.1).get_config() == {"p": 0.1}


# -------------------------------------------------------------------------- Embedding
class TestEmbedding:
    def test_lookup_by_hand(self):
        emb = nn.Embedding(3, 2)
        emb.weight.data[...] = [[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]]
        out = emb(np.array([[2, 0], [1, 1]]))
        np.testing.assert_array_equal(
            out.data, [[[2.0, 2.5], [0.0, 0.5]], [[1.0, 1.5], [1.0, 1.5]]]
        )
        out.sum().backward()
        # row 1 was used twice, row 0 and row 2 once: the gradient counts uses
        np.testing.assert_array_equal(emb.weight.grad, [[1, 1], [2, 2], [1, 1]])

    def test_default_init_and_padding(self):
        emb = nn.Embedding(400, 25, padding_idx=-1, generator=rng(0))
        assert emb.padding_idx == 399
        np.testing.assert_array_equal(emb.weight.data[399], 0)
        assert abs(emb.weight.data[:399].std() - 1.0) < 0.02 and abs(emb.weight.data.mean()) < 0.02
        out = emb(np.array([399, 1, 399]))
        out.sum().backward()
        np.testing.assert_array_equal(emb.weight.grad[399], 0)
        np.testing.assert_array_equal(emb.weight.grad[1], 1)
        assert emb.get_config() == {"num_embeddings": 400, "embedding_dim": 25, "padding_idx": 399}

    def test_gradcheck(self):
        emb = nn.Embedding(5, 3, padding_idx=0, generator=rng(0)).double()
        # the padding row is deliberately frozen (its gradient is masked), so gradcheck the others
        idx = np.array([[3, 4, 4], [1, 2, 1]])
        assert gradcheck(lambda w: emb(idx), [emb.weight])

    def test_errors(self):
        emb = nn.Embedding(5, 3)
        with pytest.raises(
            ValueError, match=r"Embedding\(5, 3\): expected indices in \[0, 5\), received index 5"
        ):
            emb(np.array([1, 5]))
        with pytest.raises(TypeError, match="integer indices"):
            emb(np.array([1.0]))
        with pytest.raises(ValueError, match="padding_idx"):
            nn.Embedding(5, 3, padding_idx=5)


# ------------------------------------------------------------------------- BatchNorm
class TestBatchNorm:
    def test_hand_worked_training_step(self):
        bn = nn.BatchNorm1d(1)
        y = bn(np.array([[1.0], [3.0]]))
        # mean 2, biased var 1 → x̂ = ∓1/√(1 + eps)
        np.testing.assert_allclose(
            y.data[:, 0], [-1 / math.sqrt(1 + 1e-5), 1 / math.sqrt(1 + 1e-5)], rtol=1e-6
        )
        # running stats move by momentum 0.1 towards mean 2 and the UNBIASED var 2
        np.testing.assert_allclose(bn.running_mean, [0.2])
        np.testing.assert_allclose(bn.running_var, [0.9 * 1 + 0.1 * 2])
        assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
        assert int(bn.num_batches_tracked) == 1

    def test_eval_uses_running_stats(self):
        bn = nn.BatchNorm1d(2)
        bn.running_mean[...] = [1.0, -1.0]
        bn.running_var[...] = [4.0, 0.25]
        bn.weight.data[...] = [2.0, 1.0]
        bn.bias.data[...] = [0.0, 1.0]
        bn.eval()
        y = bn(np.array([[3.0, 0.0]]))
        np.testing.assert_allclose(
            y.data, [[2 * 2 / math.sqrt(4 + 1e-5), 1 / math.sqrt(0.25 + 1e-5) + 1]], rtol=1e-6
        )
        assert int(bn.num_batches_tracked) == 0

    def test_matches_numpy_reference_3d_and_2d(self):
        x = rng(0).normal(size=(4, 3, 5))
        bn = nn.BatchNorm1d(3, momentum=0.3).double()
        bn.weight.data[...] = [1.0, 2.0, -1.0]
        y = bn(x)
        mean, var = x.mean(axis=(0, 2), keepdims=True), x.var(axis=(0, 2), keepdims=True)
        expected = (x - mean) / np.sqrt(var + 1e-5) * np.array([1.0, 2.0, -1.0])[None, :, None]
        np.testing.assert_allclose(y.data, expected, rtol=1e-10)
        np.testing.assert_allclose(
            bn.running_var, 0.7 + 0.3 * x.var(axis=(0, 2), ddof=1), rtol=1e-10
        )
        x4 = rng(1).normal(size=(2, 3, 2, 2))
        bn2 = nn.BatchNorm2d(3).double()
        y4 = bn2(x4)
        mean4, var4 = x4.mean(axis=(0, 2, 3), keepdims=True), x4.var(axis=(0, 2, 3), keepdims=True)
        np.testing.assert_allclose(y4.data, (x4 - mean4) / np.sqrt(var4 + 1e-5), rtol=1e-10)

    def test_cumulative_average_with_momentum_none(self):
        bn = nn.BatchNorm1d(1, momentum=None)
        bn(np.array([[0.0], [2.0]]))
        bn(np.array([[4.0], [6.0]]))
        np.testing.assert_allclose(bn.running_mean, [(1.0 + 5.0) / 2])

    @pytest.mark.parametrize("shape", [(4, 3), (3, 3, 2)])
    def test_gradcheck_training_1d(self, shape):
        bn = nn.BatchNorm1d(3).double()
        bn.weight.data[...] = [0.5, -1.5, 2.0]
        bn.bias.data[...] = [0.1, 0.2, 0.3]
        x = x64(*shape)
        assert gradcheck(lambda *a: bn(x), [x, bn.weight, bn.bias])

    def test_gradcheck_training_2d_and_eval(self):
        bn = nn.BatchNorm2d(2).double()
        bn.weight.data[...] = [1.5, -0.5]
        x = x64(2, 2, 2, 3)
        assert gradcheck(lambda *a: bn(x), [x, bn.weight, bn.bias])
        bn.running_mean[...] = [0.3, -0.2]
        bn.running_var[...] = [2.0, 0.5]
        bn.eval()
        assert gradcheck(lambda *a: bn(x), [x, bn.weight, bn.bias])

    def test_without_affine_or_tracking(self):
        bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False).double()
        assert list(bn.state_dict()) == []
        bn.eval()  # still batch statistics
        y = bn(np.array([[1.0, 5.0], [3.0, 7.0]]))
        np.testing.assert_allclose(y.data, [[-1, -1], [1, 1]], rtol=1e-5)
        x = x64(4, 2)
        assert gradcheck(bn, [x])

    def test_state_dict_names_and_config(self):
        bn = nn.BatchNorm1d(4)
        assert list(bn.state_dict()) == [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked",
        ]
        assert bn.get_config() == {"num_features": 4, "eps": 1e-5, "momentum": 0.1, "affine": True,
                                   "track_running_stats": True}
        bn.double()
        assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64

    def test_errors(self):
        with pytest.raises(ValueError) as err:
            nn.BatchNorm1d(3)(np.ones((4, 2)))
        assert (
            "BatchNorm1d(3" in str(err.value)
            and "3 channels" in str(err.value)
            and "(4, 2)" in str(err.value)
        )
        with pytest.raises(ValueError, match="expected 4-D input, received shape"):
            nn.BatchNorm2d(3)(np.ones((4, 3)))
        with pytest.raises(ValueError, match="more than 1 value per channel"):
            nn.BatchNorm1d(3)(np.ones((1, 3)))


# -------------------------------------------------------------------------- LayerNorm
class TestLayerNorm:
    def test_hand_worked(self):
        ln = nn.LayerNorm(3)
        y = ln(np.array([[1.0, 2.0, 3.0]]))
        s = math.sqrt(2 / 3 + 1e-5)  # mean 2, biased var 2/3
        np.testing.assert_allclose(y.data, [[-1 / s, 0.0, 1 / s]], rtol=1e-6)

    def test_numpy_reference_two_axes(self):
        ln = nn.LayerNorm((3, 4), eps=1e-3).double()
        ln.weight.data[...] = rng(1).normal(size=(3, 4))
        x = rng(0).normal(size=(2, 3, 4))
        mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(
            ln(x).data, (x - mean) / np.sqrt(var + 1e-3) * ln.weight.data, rtol=1e-10
        )

    @pytest.mark.parametrize("normalized_shape,shape", [(4, (3, 4)), ((2, 3), (2, 2, 3))])
    def test_gradcheck(self, normalized_shape, shape):
        ln = nn.LayerNorm(normalized_shape).double()
        ln.weight.data[...] = rng(2).normal(size=ln.weight.shape)
        ln.bias.data[...] = rng(3).normal(size=ln.bias.shape)
        x = x64(*shape)
        assert gradcheck(lambda *a: ln(x), [x, ln.weight, ln.bias])

    def test_no_affine_config_and_errors(self):
        ln = nn.LayerNorm(4, elementwise_affine=False)
        assert list(ln.state_dict()) == []
        assert ln.get_config() == {
            "normalized_shape": [4],
            "eps": 1e-5,
            "elementwise_affine": False,
            "bias": False,
        }
        with pytest.raises(
            ValueError,
            match=r"expected input whose last dimensions are \(4,\), received shape \(2, 3\)",
        ):
            ln(np.ones((2, 3)))


# ----------------------------------------------------------------- state-dict loading
def test_load_state_dict_strict_lists_every_problem():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    state = dict(model.state_dict())
    del state["2.bias"]
    state["extra.weight"] = np.zeros(3)
    state["0.weight"] = np.zeros((8, 5))
    with pytest.raises(ValueError) as err:
        model.load_state_dict(state)
    message = str(err.value)
    assert "missing keys: 2.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "0.weight: expected shape (8, 4), received (8, 5)" in message


def test_state_dict_round_trip_between_models():
    a = nn.Sequential(
        nn.Linear(4, 8, generator=rng(0)),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Linear(8, 3, generator=rng(1)),
    )
    b = nn.Sequential(
        nn.Linear(4, 8, generator=rng(5)),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Linear(8, 3, generator=rng(6)),
    )
    a(rng(2).normal(size=(6, 4)))  # move the running statistics
    b.load_state_dict(a.state_dict())
    a.eval()
    b.eval()
    x = rng(3).normal(size=(5, 4))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    assert int(b[1].num_batches_tracked) == 1
