"""DataParallel's collectives, checked in one process with thread-simulated ranks."""

import itertools

import numpy as np
import pytest
from tests.distributed.fake_comm import run_ranks

import chainrule as cr
from chainrule import nn, optim
from chainrule.distributed import DataParallel, DistributedSampler, LocalCommunicator, shard_bounds


def mlp(seed, width=5):
    """A float64 MLP drawn from its own generator (the ranks are threads: no shared state)."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(3, width, dtype=np.float64, generator=rng),
        nn.ReLU(),
        nn.Linear(width, 2, dtype=np.float64, generator=rng),
    )


def test_setup_broadcasts_rank_zero_parameters_buffers_and_generators():
    def rank(comm):
        model = nn.Sequential(mlp(seed=comm.rank), nn.BatchNorm1d(2, dtype=np.float64))
        model[1].running_mean[...] = comm.rank + 1.0
        generator = np.random.default_rng(100 + comm.rank)
        DataParallel(comm).setup(model, generators={"fit": generator})
        return [v.copy() for v in model.state_dict().values()], generator.integers(1 << 30)

    results = run_ranks(3, rank)
    for weights, draw in results[1:]:
        assert draw == results[0][1]
        for mine, rank0 in zip(weights, results[0][0], strict=False):
            np.testing.assert_array_equal(mine, rank0)
    assert results[0][0][-3][0] == 1.0  # rank 0's running_mean won


def test_reduce_gradients_is_the_gradient_of_the_global_mean_loss():
    """Uneven shards (3, 1, 0 samples) weighted by local/global size: the one-process gradient."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.integers(0, 2, size=4)

    def gradients(model, xb, yb):
        model.zero_grad()
        if len(xb):
            cr.functional.cross_entropy(
                model(cr.tensor(xb, dtype=np.float64)), cr.tensor(yb)
            ).backward()
        return model

    whole = gradients(mlp(0), x, y)

    def rank(comm):
        strategy = DataParallel(comm, sync_batchnorm=False)
        model = mlp(0)
        strategy.setup(model)
        start, stop = [(0, 3), (3, 4), (4, 4)][comm.rank]
        gradients(model, x[start:stop], y[start:stop])
        strategy.reduce_gradients(model.parameters(), stop - start, len(x))
        return [p.grad for p in model.parameters()]

    for grads in run_ranks(3, rank):
        for grad, expected in zip(grads, (p.grad for p in whole.parameters()), strict=False):
            np.testing.assert_allclose(grad, expected, rtol=1e-13, atol=1e-15)


def test_a_gradient_none_on_every_rank_stays_none():
    def rank(comm):
        strategy = DataParallel(comm)
        first, unused = nn.Linear(2, 2), nn.Linear(2, 2)
        model = nn.Sequential(first, unused)
        strategy.setup(model)
        first(cr.tensor(np.ones((1, 2)))).sum().backward()
        strategy.reduce_gradients(model.parameters(), 1, 2)
        return first.weight.grad, unused.weight.grad

    (grad0, none0), (_grad1, none1) = run_ranks(2, rank)
    assert none0 is None and none1 is None
    np.testing.assert_allclose(grad0, np.ones((2, 2)))


def test_reduce_metrics_sums_numbers_and_arrays():
    def rank(comm):
        return DataParallel(comm).reduce_metrics(
            {"correct": comm.rank + 1, "confusion": np.eye(2) * comm.rank}
        )

    for result in run_ranks(3, rank):
        assert result["correct"] == 6.0
        np.testing.assert_array_equal(result["confusion"], np.eye(2) * 3)


def test_momentum_state_is_broadcast_on_resume():
    def rank(comm):
        model = mlp(0)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(cr.tensor(np.ones((1, 3)))).sum().backward()
        for p in model.parameters():
            p.grad = p.grad * (comm.rank + 1)
        optimizer.step()
        DataParallel(comm).setup(model, optimizer)
        return [v["momentum_buffer"].copy() for v in optimizer.state.values()]

    rank0, rank1 = run_ranks(2, rank)
    for a, b in zip(rank0, rank1, strict=False):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("what", ["architecture", "data"])
def test_ranks_that_disagree_raise_on_every_rank(what):
    def rank(comm):
        model = mlp(0, width=5 if what == "data" or comm.rank == 0 else 6)
        with pytest.raises(
            ValueError, match="disagree on the (model's architecture|number of training samples)"
        ):
            DataParallel(comm).setup(model, data_size=100 + (comm.rank if what == "data" else 0))
        return True

    assert run_ranks(2, rank) == [True, True]


def test_shard_splits_a_batch_into_contiguous_pieces():
    x, y = np.arange(10), np.arange(10) * 2

    def rank(comm):
        return DataParallel(comm).shard((x, y))

    parts = run_ranks(3, rank)
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), x)
    assert [len(p[1]) for p in parts] == [4, 3, 3]


def test_more_ranks_requested_than_the_world_has():
    with pytest.raises(ValueError, match="not started by an MPI launcher.*mpiexec -n 2"):
        DataParallel(LocalCommunicator(), ranks=2)
    with pytest.raises(ValueError, match="ranks must be a positive int"):
        DataParallel(LocalCommunicator(), ranks=0)


def test_one_process_is_main():
    strategy = DataParallel(LocalCommunicator())
    assert (strategy.rank, strategy.world_size, strategy.is_main) == (0, 1, True)


# ----------------------------------------------------------------- samplers
@pytest.mark.parametrize("n,size", [(10, 3), (7, 7), (2, 5), (0, 2)])
def test_shard_bounds_cover_every_sample_once(n, size):
    pieces = [shard_bounds(n, r, size) for r in range(size)]
    assert pieces[0][0] == 0 and pieces[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    lengths = [stop - start for start, stop in pieces]
    assert max(lengths) - min(lengths) <= 1


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_counts_every_sample_once(drop_last):
    samplers = [
        DistributedSampler(range(11), num_replicas=3, rank=r, seed=4, drop_last=drop_last)
        for r in range(3)
    ]
    for epoch in (0, 1):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shares = [list(s) for s in samplers]
        assert [len(s) for s in shares] == [len(s) for s in samplers]
        union = sorted(i for share in shares for i in share)
        assert len(union) == len(set(union))  # no padding duplicates
        if drop_last:
            assert [len(s) for s in shares] == [3, 3, 3]
        else:
            assert union == list(range(11))
            assert [len(s) for s in shares] == [4, 4, 3]
    epoch0 = list(DistributedSampler(range(11), num_replicas=1, rank=0, seed=4))
    assert sorted(epoch0) == list(range(11)) and epoch0 != shares[0]


def test_distributed_sampler_bad_input():
    with pytest.raises(ValueError, match="rank must be >= 0 and below 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


def test_a_nan_loss_on_one_rank_stops_every_rank_at_the_same_batch():
    """TerminateOnNaN sees the global batch's loss: the ranks stop together instead of hanging."""
    from chainrule.train import TerminateOnNaN, fit

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    y[15] = np.nan  # batch 1 (rows 10..19): on rank 1's shard only (rows 15..19)

    def rank(comm):
        model = mlp(0)
        guard = TerminateOnNaN()
        history = fit(model, (X, y), loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
                      epochs=3, batch_size=10, shuffle=False, callbacks=[guard], verbose=0,
                      strategy=DataParallel(comm))
        return guard.terminated_batch, len(history.epoch)

    assert run_ranks(2, rank) == [(1, 1), (1, 1)]


def test_a_rank_with_an_empty_shard_takes_part_without_changing_anything():
    """A last batch of 2 samples on 3 ranks: rank 2 runs a placeholder; weights as 1 process."""
    from chainrule.train import fit

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)

    def train(strategy=None):
        model = nn.Sequential(mlp(0), nn.BatchNorm1d(2, dtype=np.float64))
        fit(model, (X, y), loss="cross_entropy", optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=2, batch_size=4, shuffle=False, verbose=0, strategy=strategy)  # 4, 4, 2
        return [v.copy() for v in model.state_dict().values()]

    results = run_ranks(3, lambda comm: train(DataParallel(comm)))
    for got, expected in zip(results[2], train(), strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    for got, other in zip(results[0], results[2], strict=True):
        np.testing.assert_array_equal(got, other)
