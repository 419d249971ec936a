"""PyTorch's names and call forms on Tensor and at the top level, against NumPy references."""

import subprocess
import sys

import numpy as np
import pytest
from tests.helpers import check_op, make_inputs

import chainrule as cr
import chainrule.functional as F


def test_import_chainrule_exposes_the_subpackages():
    code = (
        "import chainrule as cr, sys\n"
        "assert cr.nn.Linear and cr.optim.SGD and cr.functional.relu and cr.autograd.grad\n"
        "assert cr.nn.functional.relu is cr.functional.relu\n"
        "assert 'chainrule.estimators' not in sys.modules\n"
        "assert cr.data.DataLoader and cr.train.fit and cr.estimators.MLPClassifier\n"
        "import chainrule.nn.functional as F\n"
        "assert F.cross_entropy is cr.functional.cross_entropy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cr.nonexistent  # noqa: B018


def test_comparisons_are_elementwise_boolean_tensors_and_hash_is_identity():
    a = cr.tensor([1.0, 2.0, 3.0])
    b = cr.tensor([1.0, 0.0, 3.0])
    for op, ref in [("__eq__", np.equal), ("__ne__", np.not_equal), ("__lt__", np.less),
                    ("__le__", np.less_equal), ("__gt__", np.greater),
                    ("__ge__", np.greater_equal)]:
        out = getattr(a, op)(b)
        assert isinstance(out, cr.Tensor) and out.dtype == np.bool_
        np.testing.assert_array_equal(out.data, ref(a.data, b.data))
    assert (a == 2.0).data.tolist() == [False, True, False]
    assert len({a, b, a}) == 2 and hash(a) != hash(cr.tensor([1.0, 2.0, 3.0]))
    # the accuracy idiom
    pred, y = cr.tensor([0, 2, 1, 1]), cr.tensor([0, 1, 1, 1])
    assert (pred == y).float().mean().item() == pytest.approx(0.75)
    assert (pred == y).sum().item() == 3


def test_dtype_conversions_and_names():
    x = cr.tensor([1.7, -2.2])
    assert x.long().dtype == cr.int64 == cr.long and x.long().tolist() == [1, -2]
    assert x.int().dtype == cr.int32 and x.bool().dtype == cr.bool
    assert x.double().dtype == cr.float64 == cr.double and x.float().dtype == cr.float32
    assert cr.float == cr.float32
    w = cr.tensor([1.5], requires_grad=True)
    assert not w.long().requires_grad  # casting to integers is not differentiable
    assert w.to(cr.float64).dtype == np.float64 and w.to("cpu") is w and w.cpu() is w
    assert w.to(cr.device("cpu"), dtype=cr.float64).dtype == np.float64
    assert w.to(cr.zeros(1, dtype=cr.float64)).dtype == np.float64
    assert w.device == cr.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="CPU.*'cuda'"):
        w.to("cuda")
    with pytest.raises(ValueError, match="cuda:0"):
        cr.device("cuda:0")


def test_size_numel_and_dim():
    x = cr.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3
    with pytest.raises(IndexError, match="dim 3"):
        x.size(3)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std"])
def test_reductions_take_dim_and_keepdim(name):
    data = np.random.default_rng(0).normal(size=(3, 4, 2))
    x = cr.tensor(data, dtype=np.float64)
    ref = {"sum": np.sum, "mean": np.mean, "var": lambda a, **k: np.var(a, ddof=1, **k),
           "std": lambda a, **k: np.std(a, ddof=1, **k)}[name]
    for dim in (1, (0, 2), -1):
        np.testing.assert_allclose(getattr(x, name)(dim=dim, keepdim=True).data,
                                   ref(data, axis=dim, keepdims=True))
        np.testing.assert_allclose(getattr(x, name)(dim).data, ref(data, axis=dim))
        np.testing.assert_allclose(getattr(cr, name)(x, axis=dim, keepdims=True).data,
                                   ref(data, axis=dim, keepdims=True))
    with pytest.raises(TypeError, match="dim= or axis="):
        getattr(x, name)(dim=0, axis=0)


def test_var_population_option():
    x = cr.tensor([1.0, 2.0, 4.0], dtype=np.float64)
    assert x.var(unbiased=False).item() == pytest.approx(np.var([1, 2, 4]))
    assert x.var(correction=0).item() == pytest.approx(np.var([1, 2, 4]))


def test_max_and_min_with_dim_return_values_and_indices():
    data = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    x = cr.tensor(data, dtype=np.float64, requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.data, [5.0, 6.0])
    np.testing.assert_array_equal(indices.data, [1, 2])
    assert indices.dtype == np.int64
    result = x.min(dim=0, keepdim=True)
    np.testing.assert_array_equal(result.values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(result.indices.data, [[0, 1, 0]])
    assert x.max().item() == 6.0 and cr.max(x, axis=0).shape == (3,)  # NumPy form: values
    np.testing.assert_array_equal(cr.max(x, cr.tensor(4.0, dtype=np.float64)).data,
                                  np.maximum(data, 4.0))
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 0, 1]])
    assert x.argmax().item() == 5
    np.testing.assert_array_equal(x.argmax(1).data, [1, 2])
    np.testing.assert_array_equal(cr.argmax(x, dim=0, keepdim=True).data, [[1, 0, 1]])
    np.testing.assert_array_equal(x.argmin(dim=1).data, [0, 1])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_like_functions_take_dim(dim):
    x = make_inputs((3, 4))[0]
    np.testing.assert_allclose(x.softmax(dim).data, F.softmax(x, axis=dim).data)
    np.testing.assert_allclose(F.log_softmax(x, dim=dim).data, np.log(F.softmax(x, dim).data))
    np.testing.assert_allclose(cr.softmax(x, dim=dim).data.sum(axis=dim), 1.0)


def test_sin_and_cos():
    check_op(F.sin, np.sin, (3, 4))
    check_op(F.cos, np.cos, (2, 5))
    x = cr.tensor([0.0, np.pi / 2])
    np.testing.assert_allclose(x.sin().data, [0, 1], atol=1e-7)


def test_clamp():
    check_op(lambda x: x.clamp(-0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0), (4, 5))
    check_op(lambda x: cr.clamp(x, min=0.0), lambda x: np.maximum(x, 0.0), (4, 5), seed=1)


def test_view_reshape_t_contiguous():
    check_op(lambda x: x.view(3, -1), lambda x: x.reshape(3, -1), (2, 3, 2))
    check_op(lambda x: x.view((6, 2)), lambda x: x.reshape(6, 2), (2, 3, 2))
    check_op(lambda x, y: x.view_as(y) * y, lambda x, y: x.reshape(y.shape) * y, (2, 6), (3, 4))
    check_op(lambda x: x.t(), lambda x: x.T, (2, 5))
    v = cr.tensor([1.0, 2.0])
    assert v.t() is v
    with pytest.raises(ValueError, match="at most 2"):
        cr.zeros(2, 2, 2).t()
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    assert x.contiguous() is x
    xt = x.t().contiguous()
    assert xt.data.flags.c_contiguous and xt.shape == (3, 2)
    check_op(lambda x: x.t().contiguous(), lambda x: np.ascontiguousarray(x.T), (3, 4))


@pytest.mark.parametrize("sizes, shape", [((3, 4), (1, 4)), ((2, 3, 4), (3, 1)),
                                          ((-1, 5), (2, 1)), ((2, -1, -1), (3, 4))])
def test_expand(sizes, shape):
    target = np.broadcast_shapes(tuple(1 if s == -1 else s for s in sizes), shape)
    check_op(lambda x: x.expand(*sizes), lambda x: np.broadcast_to(x, target), shape)


def test_expand_errors():
    with pytest.raises(ValueError, match="dimension 0 of size 2"):
        cr.zeros(2, 1).expand(3, 4)
    x = cr.zeros(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="cannot write"):
        x.add_(1)


@pytest.mark.parametrize("repeats, shape", [((2, 3), (2, 3)), ((2, 1, 2), (3, 2)), ((3,), (4,))])
def test_repeat(repeats, shape):
    check_op(lambda x: x.repeat(*repeats), lambda x: np.tile(x, repeats), shape)


def test_chunk_and_split():
    x = make_inputs((7, 4))[0]
    pieces = x.chunk(3)
    assert [p.shape[0] for p in pieces] == [3, 3, 1]
    assert [p.shape[1] for p in x.chunk(2, dim=1)] == [2, 2]
    assert [p.shape[0] for p in x.split(2)] == [2, 2, 2, 1]
    assert [p.shape[1] for p in cr.split(x, [1, 3], dim=1)] == [1, 3]
    np.testing.assert_array_equal(np.concatenate([p.data for p in x.split([4, 3])]), x.data)

    def weighted(x):
        a, b, c = x.chunk(3)
        return a.sum() * 1.0 + b.sum() * 2.0 + (c * c).sum()

    check_op(weighted, None, (7, 4))
    with pytest.raises(ValueError, match="sum to the dimension's size 7"):
        x.split([3, 3])


def test_masked_fill():
    mask = np.array([[True, False, False], [False, True, True]])
    check_op(lambda x: x.masked_fill(mask, -1.0), lambda x: np.where(mask, -1.0, x), (2, 3))
    check_op(lambda x: x.masked_fill(cr.tensor(mask[0]), 0.0),
             lambda x: np.where(mask[0], 0.0, x), (4, 3))
    x = cr.tensor([1.0, -2.0, 3.0])
    x.masked_fill_(x < 0, 0.0)
    np.testing.assert_array_equal(x.data, [1.0, 0.0, 3.0])
    with pytest.raises(TypeError, match="boolean mask"):
        x.masked_fill(np.array([1, 0, 1]), 0.0)


def test_gather():
    index = np.array([[0, 0], [1, 0], [2, 2]])
    check_op(lambda x: x.gather(1, index), lambda x: np.take_along_axis(x, index, 1), (3, 4))
    index0 = np.array([[2, 0, 1, 1]])
    check_op(lambda x: cr.gather(x, 0, index0), lambda x: np.take_along_axis(x, index0, 0), (3, 4))
    x = cr.tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(x.gather(1, cr.tensor([[3], [0]])).data, [[3.0], [4.0]])
    with pytest.raises(TypeError, match="integers"):
        x.gather(1, np.array([[0.5]]))


def test_index_select():
    index = np.array([2, 0, 2])
    check_op(lambda x: x.index_select(0, index), lambda x: x[index], (3, 4))
    check_op(lambda x: cr.index_select(x, 1, cr.tensor([1, 1])), lambda x: x[:, [1, 1]], (3, 4))
    with pytest.raises(ValueError, match="1-D"):
        cr.zeros(3, 4).index_select(0, np.array([[0]]))


def test_matmul_mm_bmm():
    check_op(cr.mm, np.matmul, (3, 4), (4, 2))
    check_op(cr.bmm, np.matmul, (2, 3, 4), (2, 4, 5))
    check_op(lambda a, b: a.mm(b), np.matmul, (2, 3), (3, 2))
    with pytest.raises(ValueError, match="2-D"):
        cr.mm(cr.zeros(2, 3, 4), cr.zeros(4, 2))
    with pytest.raises(ValueError, match="batch sizes"):
        cr.bmm(cr.zeros(2, 3, 4), cr.zeros(3, 4, 2))


def test_top_level_functions_are_the_primitives():
    x = make_inputs((3, 4))[0]
    for name, ref in [("exp", np.exp), ("tanh", np.tanh), ("sin", np.sin), ("cos", np.cos)]:
        np.testing.assert_allclose(getattr(cr, name)(x).data, ref(x.data))
    np.testing.assert_allclose(cr.sigmoid(x).data, 1 / (1 + np.exp(-x.data)))
    np.testing.assert_allclose(cr.relu(x).data, np.maximum(x.data, 0))
    np.testing.assert_allclose(cr.log(x.abs()).data, np.log(np.abs(x.data)))
    np.testing.assert_allclose(cr.matmul(x, x.t()).data, x.data @ x.data.T)
    np.testing.assert_allclose(cr.cat([x, x], dim=1).data, np.concatenate([x.data] * 2, 1))
    np.testing.assert_allclose(cr.stack([x, x], 1).data, np.stack([x.data] * 2, 1))
    assert cr.flatten(x).shape == (12,)
    np.testing.assert_allclose(cr.where(x > 0, x, 0.0).data, np.where(x.data > 0, x.data, 0))


def test_factories_shapes_dtypes_and_values():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == cr.float32
    assert cr.ones(()).item() == 1.0 and cr.ones([2], dtype=cr.int64).dtype == np.int64
    assert cr.empty(4, 1).shape == (4, 1)
    assert cr.full((2,), 7).dtype == cr.int64 and cr.full((2,), 0.5).dtype == cr.float32
    assert cr.full((2,), True).dtype == cr.bool
    np.testing.assert_array_equal(cr.eye(2, 3).data, np.eye(2, 3))
    assert cr.arange(5).dtype == cr.int64 and cr.arange(5).tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(cr.arange(0, 1, 0.25).data, [0, 0.25, 0.5, 0.75])
    assert cr.arange(0, 1, 0.25).dtype == cr.float32
    np.testing.assert_allclose(cr.linspace(-1, 1, 5).data, np.linspace(-1, 1, 5))
    assert cr.linspace(0, 1, 3, dtype=cr.float64).dtype == np.float64
    w = cr.zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    like = cr.ones_like(cr.zeros(2, 2, dtype=cr.float64))
    assert like.dtype == np.float64 and like.shape == (2, 2)
    assert cr.zeros_like(w).sum().item() == 0 and cr.full_like(w, 3).tolist() == [3, 3, 3]
    assert cr.empty_like(w).shape == (3,)
    with pytest.raises(ValueError, match="non-negative"):
        cr.zeros(-1)
    with pytest.raises(TypeError, match="floating tensors"):
        cr.zeros(2, dtype=cr.int64, requires_grad=True)


def test_random_factories_follow_the_generator_and_manual_seed():
    g = np.random.default_rng(5)
    a = cr.randn(3, 4, generator=g)
    np.testing.assert_array_equal(
        a.data, np.random.default_rng(5).standard_normal((3, 4), dtype=np.float32))
    r = cr.rand(1000, generator=7)
    assert r.dtype == cr.float32 and 0 <= r.data.min() and r.data.max() < 1
    i = cr.randint(3, 10, (1000,), generator=1)
    assert i.dtype == cr.int64 and i.data.min() >= 3 and i.data.max() <= 9
    assert cr.randint(5, (2, 2)).shape == (2, 2) and cr.randint(0, 5, size=(3,)).shape == (3,)
    for factory in (lambda: cr.randn(()), lambda: cr.rand(2, dtype=cr.float64),
                    lambda: cr.randint(0, 100, (4,)), lambda: cr.randn_like(cr.zeros(3)),
                    lambda: cr.rand_like(cr.zeros(2)), lambda: cr.randint_like(cr.zeros(2), 9)):
        cr.manual_seed(11)
        first = factory().data.copy()
        cr.manual_seed(11)
        np.testing.assert_array_equal(factory().data, first)
    assert cr.randn((), dtype=cr.float64, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="low < high"):
        cr.randint(5, 5, (1,))


def test_from_numpy_shares_memory_and_keeps_dtype():
    array = np.arange(3.0)
    t = cr.from_numpy(array)
    assert t.dtype == np.float64
    array[0] = 9
    assert t.data[0] == 9
    t.add_(1)
    assert array.tolist() == [10.0, 2.0, 3.0]
    with pytest.raises(TypeError, match="numpy.ndarray"):
        cr.from_numpy([1, 2])


def test_against_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).normal(size=(3, 4))
    x = cr.tensor(data, dtype=np.float64, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    index = np.array([[0, 3], [1, 1], [2, 0]])
    ours = (x.gather(1, index).sum() + x.repeat(2, 1).sin().sum() + x.max(1).values.sum()
            + x.expand(2, 3, 4).cos().sum() + x.var(1).sum() + x.index_select(1, [0, 0]).sum())
    theirs = (tx.gather(1, torch.tensor(index)).sum() + tx.repeat(2, 1).sin().sum()
              + tx.max(1).values.sum() + tx.expand(2, 3, 4).cos().sum() + tx.var(1).sum()
              + tx.index_select(1, torch.tensor([0, 0])).sum())
    ours.backward()
    theirs.backward()
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10)
    assert x.max(1).indices.tolist() == tx.max(1).indices.tolist()


def test_an_integer_tensor_meeting_a_float_tensor_keeps_the_float_dtype():
    x = cr.linspace(-1, 1, 5, requires_grad=True)
    p = cr.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)  # the tutorial's features (x, x², x³)
    assert xx.dtype == cr.float32  # NumPy alone would give float64
    np.testing.assert_allclose(xx.data, x.data[:, None] ** np.array([1, 2, 3]), rtol=1e-6)
    xx.sum().backward()
    np.testing.assert_allclose(x.grad, 1 + 2 * x.data + 3 * x.data ** 2, rtol=1e-5)
    assert (cr.tensor([1, 2]) * cr.tensor([0.5, 0.5])).dtype == cr.float32
    assert (cr.tensor([True, False]) + cr.tensor([1.0, 1.0], dtype=cr.float64)).dtype == cr.float64
    assert (cr.tensor([1.0]) + cr.tensor([1.0], dtype=cr.float64)).dtype == cr.float64
