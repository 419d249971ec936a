"""Dataset, TensorDataset, Subset, random_split and DataLoader."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, random_split


def make_ds(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(X, y)


class ListDataset(Dataset):
    """A dataset with only __getitem__: exercises the per-sample path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i


def test_tensor_dataset_items_and_length():
    ds = make_ds(5)
    assert len(ds) == 5
    x, y = ds[2]
    np.testing.assert_array_equal(x, [6, 7, 8])
    assert y == 2


def test_tensor_dataset_accepts_tensors_and_keeps_dtypes():
    ds = TensorDataset(
        cr.tensor(np.ones((4, 2))), np.zeros(4, dtype=np.float64), [1.0, 2.0, 3.0, 4.0]
    )
    assert ds.arrays[0].dtype == np.float32  # Tensor data (float32 by default)
    assert ds.arrays[1].dtype == np.float64  # an ndarray keeps its dtype
    assert ds.arrays[2].dtype == np.float32  # Python floats follow the Tensor default


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\(4, 2\), \(3,\)"):
        TensorDataset(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_loader_batches_in_order_without_shuffle():
    loader = DataLoader(make_ds(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert all(isinstance(t, cr.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), np.arange(10))
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_loader_drop_last_and_len():
    assert len(DataLoader(make_ds(10), batch_size=4, drop_last=True)) == 2
    assert [b[1].shape[0] for b in DataLoader(make_ds(10), batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(make_ds(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(make_ds(8), batch_size=4)) == 2
    assert len(DataLoader(make_ds(3), batch_size=4, drop_last=True)) == 0
    assert list(DataLoader(make_ds(3), batch_size=4, drop_last=True)) == []


def test_loader_shuffle_is_a_permutation_and_deterministic():
    ds = make_ds(10)

    def epoch_labels(loader):
        return np.concatenate([y.data for _, y in loader])

    a = DataLoader(ds, batch_size=3, shuffle=True, generator=np.random.default_rng(7))
    b = DataLoader(ds, batch_size=3, shuffle=True, generator=np.random.default_rng(7))
    first_a, first_b = epoch_labels(a), epoch_labels(b)
    np.testing.assert_array_equal(first_a, first_b)
    np.testing.assert_array_equal(np.sort(first_a), np.arange(10))
    assert not np.array_equal(first_a, np.arange(10))
    # each epoch draws a new permutation from the same generator
    second_a = epoch_labels(a)
    assert not np.array_equal(first_a, second_a)
    np.testing.assert_array_equal(second_a, epoch_labels(b))
    # features travel with their labels
    for x, y in DataLoader(ds, batch_size=4, shuffle=True, generator=1):
        np.testing.assert_array_equal(x.data[:, 0], y.data * 3)


def test_loader_default_generator_follows_manual_seed():
    ds = make_ds(20)
    cr.manual_seed(3)
    first = np.concatenate([y.data for _, y in DataLoader(ds, batch_size=5, shuffle=True)])
    cr.manual_seed(3)
    again = np.concatenate([y.data for _, y in DataLoader(ds, batch_size=5, shuffle=True)])
    np.testing.assert_array_equal(first, again)


def test_loader_per_sample_path_matches_fast_path():
    slow = list(DataLoader(ListDataset(7), batch_size=3))
    assert [b[0].shape for b in slow] == [(3, 2), (3, 2), (1, 2)]
    assert slow[0][0].dtype == np.float32 and slow[0][1].dtype == np.int64
    np.testing.assert_array_equal(slow[1][1].data, [3, 4, 5])


def test_loader_keeps_float64():
    ds = TensorDataset(np.ones((4, 2), dtype=np.float64), np.arange(4))
    x, _ = next(iter(DataLoader(ds, batch_size=2)))
    assert x.dtype == np.float64


def test_loader_over_plain_array_yields_tensors():
    batches = list(DataLoader(np.arange(5.0, dtype=np.float32), batch_size=2))
    assert [b.shape for b in batches] == [(2,), (2,), (1,)]
    assert isinstance(batches[0], cr.Tensor)


def test_loader_rejects_bad_batch_size():
    for bad in (0, -1, 2.5, None, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(make_ds(), batch_size=bad)


def test_fast_path_does_not_call_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    ds = Counting(np.zeros((100, 2), np.float32), np.zeros(100, np.int64))
    list(DataLoader(ds, batch_size=10, shuffle=True, generator=0))
    assert Counting.calls == 0


def test_random_split_with_counts_and_fractions():
    ds = make_ds(10)
    parts = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [7, 3]
    seen = np.concatenate([p.indices for p in parts])
    np.testing.assert_array_equal(np.sort(seen), np.arange(10))
    again = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    np.testing.assert_array_equal(parts[0].indices, again[0].indices)
    # fractions: floor, then the remainder goes round-robin from the first subset
    assert [len(p) for p in random_split(ds, [0.5, 0.3, 0.2], generator=0)] == [5, 3, 2]
    assert [len(p) for p in random_split(make_ds(11), [0.34, 0.33, 0.33], generator=0)] == [4, 4, 3]
    x, y = parts[1][0]
    assert x[0] == 3 * y


def test_random_split_errors():
    with pytest.raises(ValueError, match="sum to the dataset length 10"):
        random_split(make_ds(10), [5, 4])
    with pytest.raises(ValueError, match="fractions must sum to 1"):
        random_split(make_ds(10), [0.5, 0.4])


def test_subset_loader_uses_wrapped_dataset():
    ds = make_ds(10)
    sub = Subset(ds, [9, 2, 5])
    assert len(sub) == 3
    assert sub[0][1] == 9
    (_, y), = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(y.data, [9, 2, 5])
    assert hasattr(sub, "get_batch")
    assert not hasattr(Subset(ListDataset(4), [0, 1]), "get_batch")
    ys = np.concatenate(
        [b[1].data for b in DataLoader(Subset(ListDataset(4), [3, 1]), batch_size=1)]
    )
    np.testing.assert_array_equal(ys, [3, 1])
    with pytest.raises(ValueError, match="indices must lie"):
        Subset(ds, [10])
