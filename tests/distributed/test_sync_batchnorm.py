"""SyncBatchNorm: forward equals BatchNorm over the whole batch; backward against differences.

P ranks are simulated by threads (tests/distributed/fake_comm.py); the real
thing under mpiexec is tested in test_mpi.py.
"""

import numpy as np
import pytest
from tests.distributed.fake_comm import run_ranks, shards

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.distributed import (
    LocalCommunicator,
    SyncBatchNorm,
    convert_sync_batchnorm,
    revert_sync_batchnorm,
    sync_batch_norm,
)


def reference_batch_norm(x, gamma, beta, eps=1e-5):
    """Plain NumPy batch norm over every axis but 1 (the whole, unsharded batch)."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma.reshape(shape) * (x - mean) / np.sqrt(var + eps) + beta.reshape(shape)


@pytest.mark.parametrize("shape", [(9, 3), (9, 2, 4), (9, 2, 3, 3)])
def test_forward_and_running_stats_equal_batchnorm_over_the_global_batch(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape) * 3 + 1
    sizes = [2, 3, 4]
    channels = shape[1]
    gamma, beta = rng.normal(size=channels), rng.normal(size=channels)

    def rank(comm):
        layer = SyncBatchNorm(channels, dtype=np.float64, momentum=0.3)
        layer.weight.data[...], layer.bias.data[...] = gamma, beta
        layer.comm = comm
        y = layer(cr.tensor(shards(x, sizes)[comm.rank], dtype=np.float64))
        return y.data, layer.running_mean.copy(), layer.running_var.copy()

    results = run_ranks(3, rank)
    np.testing.assert_allclose(
        np.concatenate([r[0] for r in results]),
        reference_batch_norm(x, gamma, beta),
        rtol=1e-12,
        atol=1e-12,
    )
    whole = (
        nn.BatchNorm1d(channels, dtype=np.float64, momentum=0.3)
        if len(shape) < 4
        else nn.BatchNorm2d(channels, dtype=np.float64, momentum=0.3)
    )
    whole(cr.tensor(x, dtype=np.float64))
    for _, running_mean, running_var in results:
        np.testing.assert_allclose(running_mean, whole.running_mean, rtol=1e-12)
        np.testing.assert_allclose(running_var, whole.running_var, rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_one_rank(shape, affine):
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.normal(size=shape), dtype=np.float64, requires_grad=True)
    inputs = [x]
    if affine:
        inputs += [
            cr.tensor(rng.normal(size=shape[1]), dtype=np.float64, requires_grad=True)
            for _ in range(2)
        ]

    def fn(x, *affine_params):
        weight, bias = affine_params if affine_params else (None, None)
        return sync_batch_norm(x, weight=weight, bias=bias, comm=LocalCommunicator())

    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("sizes", [[2, 3, 4], [3, 0, 2]])
@pytest.mark.parametrize("shape", [(3,), (2, 3, 2)])
def test_backward_across_ranks_against_finite_differences(sizes, shape):
    """The ranks' gradients, weighted by m_r/m as DataParallel does, are ∂L/∂x of the global loss.

    L = Σ_r (m_r/m) Σ_i v_r,i ⊙ y_r,i with y = BatchNorm over the whole batch;
    the reference is central differences of L through the NumPy batch norm.
    """
    rng = np.random.default_rng(2)
    n = sum(sizes)
    x = rng.normal(size=(n,) + shape)
    v = rng.normal(size=x.shape)
    gamma, beta = rng.normal(size=shape[0]), rng.normal(size=shape[0])
    shares = np.repeat(np.array(sizes, dtype=float) / n, sizes).reshape((n,) + (1,) * len(shape))

    def global_loss(x_, gamma_, beta_):
        return float((shares * v * reference_batch_norm(x_, gamma_, beta_)).sum())

    def rank(comm):
        xr = cr.tensor(shards(x, sizes)[comm.rank], dtype=np.float64, requires_grad=True)
        g = cr.tensor(gamma, dtype=np.float64, requires_grad=True)
        b = cr.tensor(beta, dtype=np.float64, requires_grad=True)
        y = sync_batch_norm(xr, weight=g, bias=b, comm=comm)
        y.backward(shards(v, sizes)[comm.rank])
        share = sizes[comm.rank] / n
        return xr.grad * share, g.grad * share, b.grad * share

    results = run_ranks(len(sizes), rank)
    analytic_x = np.concatenate([r[0] for r in results])
    analytic_gamma = sum(r[1] for r in results)
    analytic_beta = sum(r[2] for r in results)

    eps = 1e-6
    numeric = []
    for array in (x, gamma, beta):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            up = global_loss(x, gamma, beta)
            array[index] = saved - eps
            down = global_loss(x, gamma, beta)
            array[index] = saved
            grad[index] = (up - down) / (2 * eps)
        numeric.append(grad)
    np.testing.assert_allclose(analytic_x, numeric[0], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(analytic_gamma, numeric[1], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(analytic_beta, numeric[2], rtol=1e-5, atol=1e-8)


def test_convert_shares_state_and_revert_restores_the_layers():
    bn1, bn2 = nn.BatchNorm1d(4), nn.BatchNorm2d(3)
    model = nn.Sequential(nn.Linear(2, 4), bn1, nn.Sequential(bn2))
    params_before = [id(p) for p in model.parameters()]
    keys_before = list(model.state_dict())
    convert_sync_batchnorm(model)
    assert isinstance(model[1], SyncBatchNorm) and isinstance(model[2][0], SyncBatchNorm)
    assert [id(p) for p in model.parameters()] == params_before
    assert list(model.state_dict()) == keys_before
    model[1](cr.tensor(np.random.default_rng(0).normal(size=(6, 4))))
    assert bn1.num_batches_tracked == 1 and not np.allclose(bn1.running_mean, 0)
    revert_sync_batchnorm(model)
    assert model[1] is bn1 and model[2][0] is bn2


def test_eval_mode_uses_running_statistics_like_batchnorm():
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn.running_mean[...], bn.running_var[...] = rng.normal(size=3), rng.uniform(1, 2, size=3)
    sync = convert_sync_batchnorm(nn.Sequential(bn))[0]
    sync.eval()
    x = cr.tensor(rng.normal(size=(4, 3)), dtype=np.float64)
    np.testing.assert_allclose(
        sync(x).data, (x.data - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    )


def test_saved_with_its_type_and_rebuilt():
    model = nn.Sequential(nn.Linear(2, 3), SyncBatchNorm(3))
    rebuilt = cr.io.build_model(cr.io.model_config(model))
    assert isinstance(rebuilt[1], SyncBatchNorm)


def test_bad_input_names_the_layer():
    layer = SyncBatchNorm(3)
    with pytest.raises(ValueError, match="SyncBatchNorm"):
        layer(cr.tensor(np.zeros((4, 2))))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(cr.tensor(np.zeros((1, 3))))
