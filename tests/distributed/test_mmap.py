"""Data larger than memory: .npy inputs memory-mapped, read a batch at a time, pages released."""

import os
import threading

import numpy as np
import pytest

import chainrule.optim as optim
from chainrule import nn
from chainrule.data import datasets
from chainrule.data.datasets import mmap as mmap_module
from chainrule.data.datasets.mmap import is_mapped, open_npy
from chainrule.train import fit

psutil = pytest.importorskip("psutil")


def write_pair(folder, rows, features, seed=0, dtype=np.float32):
    """X.npy (rows × features) written in slabs, never whole in memory, and y.npy (3 classes)."""
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(os.path.join(folder, "X.npy"), mode="w+", dtype=dtype,
                                  shape=(rows, features))
    slab = max(1, (64 << 20) // (features * X.itemsize))
    for start in range(0, rows, slab):
        X[start:start + slab] = rng.normal(size=(min(slab, rows - start), features))
    X.flush()
    del X
    np.save(os.path.join(folder, "y.npy"), rng.integers(0, 3, size=rows))
    return f"{folder}/X.npy,{folder}/y.npy"


def model_for(features):
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(features, 8, generator=rng), nn.ReLU(),
                         nn.Linear(8, 3, generator=rng))


def train_one_epoch(bundle, batch_size=2048):
    model = model_for(bundle.input_shape[0])
    fit(model, (bundle.X_train, bundle.y_train), loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=batch_size,
        generator=0, verbose=0, progress=False)
    return model


def resident_growth(load):
    """(RSS growth in bytes over ``load()`` and one epoch of training, the model, the bundle)."""
    process = psutil.Process()
    before = process.memory_info().rss
    bundle = load()
    model = train_one_epoch(bundle)
    return process.memory_info().rss - before, model, bundle


def test_memory_mapped_training_keeps_resident_memory_small(tmp_path, monkeypatch):
    source = write_pair(tmp_path, rows=80_000, features=256)  # 82 MB of inputs
    file_size = os.path.getsize(tmp_path / "X.npy")
    warm_up = datasets.load(write_pair(tmp_path / "..", rows=600, features=256))
    train_one_epoch(warm_up)  # one-time costs (imports, allocator pools) out of the way
    growth, model, bundle = resident_growth(lambda: datasets.load(source))
    assert is_mapped(bundle.X_train) and not bundle.X_train.flags.writeable
    assert growth < file_size / 4, f"RSS +{growth / 2**20:.1f} MB, file {file_size / 2**20:.0f} MB"
    in_memory = train_one_epoch(
        type(bundle)(**{**vars(bundle), "X_train": np.array(bundle.X_train)}))
    for mapped, loaded in zip(model.parameters(), in_memory.parameters(), strict=True):
        np.testing.assert_array_equal(mapped.data, loaded.data)

    # The control: the same run with the page release switched off holds the file resident.
    monkeypatch.setattr(mmap_module, "release_pages", lambda array: False)
    growth_without_release, _, _ = resident_growth(lambda: datasets.load(source))
    print(f"RSS growth: {growth / 2**20:.1f} MB with the release, "
          f"{growth_without_release / 2**20:.1f} MB without, for {file_size / 2**20:.0f} MB")
    assert growth_without_release > file_size / 2  # what the released pages would have cost


@pytest.mark.slow
def test_a_2gb_file_trains_with_resident_memory_under_300mb(tmp_path):
    source = write_pair(tmp_path, rows=2 * 2**30 // (512 * 4), features=512)
    assert os.path.getsize(tmp_path / "X.npy") >= 2 * 2**30
    growth, _, _ = resident_growth(lambda: datasets.load(source))
    print(f"RSS growth over loading and one epoch on a 2 GB file: {growth / 2**20:.1f} MB")
    assert growth < 300 * 2**20, f"RSS grew {growth / 2**20:.0f} MB"


def test_split_is_the_last_rows_and_test_files_are_accepted(tmp_path):
    source = write_pair(tmp_path, rows=50, features=3)
    bundle = datasets.load(source, test_size=0.2)
    X = np.load(tmp_path / "X.npy")
    np.testing.assert_array_equal(bundle.X_test, X[40:])
    assert bundle.num_classes == 3 and bundle.task == "classification"
    test = datasets.load(source, test_data=source)
    assert len(test.X_train) == len(test.X_test) == 50
    X_train, _ = datasets.load(source, split="train", mmap=False)
    assert not is_mapped(X_train) and len(X_train) == 40


def test_bad_npy_files_get_clear_errors(tmp_path):
    source = write_pair(tmp_path, rows=10, features=2)
    np.save(tmp_path / "short.npy", np.arange(9))
    with pytest.raises(ValueError, match="expected 10 targets"):
        datasets.load(f"{tmp_path}/X.npy,{tmp_path}/short.npy")
    np.save(tmp_path / "objects.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        open_npy(tmp_path / "objects.npy")
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.ones((3, 2))))
    with pytest.raises(ValueError, match="Fortran order"):
        open_npy(tmp_path / "fortran.npy")
    assert "not standardised" in datasets.load(source, standardize=True).notes[0]
    with pytest.raises(ValueError, match="mmap applies to .npy files"):
        datasets.load("digits", mmap=True)
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        datasets.load(f"{tmp_path}/missing.npy,{tmp_path}/y.npy")
    X = np.load(tmp_path / "X.npy")
    X[3, 1] = np.nan
    np.save(tmp_path / "X.npy", X)
    with pytest.raises(ValueError, match="NaN"):
        datasets.load(source)


def test_each_rank_reads_only_its_shard_of_a_mapped_file(tmp_path, monkeypatch):
    """Two thread-simulated ranks training on one mapped file each read half of every batch."""
    from tests.distributed.fake_comm import run_ranks

    from chainrule.data.datasets.mmap import MappedRows
    from chainrule.distributed import DataParallel

    bundle = datasets.load(write_pair(tmp_path, rows=400, features=4))
    read = {}
    original = MappedRows.read

    def counting_read(self):
        rows = original(self)
        read.setdefault(threading.get_ident(), []).extend(self.rows.tolist())
        return rows

    monkeypatch.setattr(MappedRows, "read", counting_read)

    def rank(comm):
        model = model_for(4)
        fit(model, (bundle.X_train, bundle.y_train), loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=64,
            generator=0, verbose=0, strategy=DataParallel(comm))
        return sorted(read[threading.get_ident()])

    first, second = run_ranks(2, rank)
    assert len(first) + len(second) == len(bundle.X_train)
    assert not set(first) & set(second)  # no row read twice
