"""File loaders: IDX folders, fashion-mnist, CSV and .npz, with their error messages."""

import gzip

import numpy as np
import pytest

from chainrule.data.datasets import (
    DataContentError,
    DataFormatError,
    DatasetNotFoundError,
    DataTooLargeError,
    NonFiniteValueError,
    load,
    read_idx,
    write_idx,
)
from chainrule.data.datasets.files import find_fashion_mnist


# ----------------------------------------------------------------------- IDX
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3-ubyte{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, array)


def test_idx_header_written_by_hand(tmp_path):
    # magic 0x00000801 (uint8, 1-D), dimension 3 big-endian, then the data
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    np.testing.assert_array_equal(read_idx(path), [7, 8, 9])
    path.write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE]))  # int16 big-endian
    np.testing.assert_array_equal(read_idx(path), [258, -2])


def test_idx_validation(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="unknown IDX type code 0x42"):
        read_idx(path)
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3])))
    with pytest.raises(ValueError, match=r"need 4 data bytes, the file holds 3"):
        read_idx(path)
    with pytest.raises(TypeError, match="write_idx"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def write_mnist_folder(folder, n_train=12, n_test=5, gz=True, labels=None):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    if labels is None:
        labels = np.arange(10, dtype=np.uint8)
    write_idx(
        folder / f"train-images-idx3-ubyte{suffix}",
        rng.integers(0, 256, (n_train, 4, 4)).astype(np.uint8),
    )
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", np.resize(labels, n_train))
    write_idx(
        folder / f"t10k-images-idx3-ubyte{suffix}",
        rng.integers(0, 256, (n_test, 4, 4)).astype(np.uint8),
    )
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", np.resize(labels, n_test))


@pytest.mark.parametrize("gz", [True, False])
def test_idx_folder_loads_as_images(tmp_path, gz):
    write_mnist_folder(tmp_path / "mini", gz=gz)
    bundle = load(tmp_path / "mini")
    assert bundle.X_train.shape == (12, 1, 4, 4) and bundle.X_test.shape == (5, 1, 4, 4)
    assert (
        bundle.X_train.dtype == np.float32
        and 0 <= bundle.X_train.min() <= bundle.X_train.max() <= 1
    )
    assert bundle.y_train.dtype == np.int64 and bundle.num_classes == 10
    assert bundle.image_shape == (1, 4, 4) and bundle.input_shape == (1, 4, 4)
    raw = read_idx(next((tmp_path / "mini").glob("train-images*")))
    np.testing.assert_allclose(bundle.X_train[:, 0] * 255, raw, atol=1e-4)


def test_idx_folder_maps_labels_and_reports_missing_files(tmp_path):
    write_mnist_folder(tmp_path / "odd", labels=np.array([3, 7], dtype=np.uint8))
    bundle = load(str(tmp_path / "odd"))
    assert bundle.num_classes == 2 and bundle.class_names == ["3", "7"]
    assert set(bundle.y_train) == {0, 1}
    (tmp_path / "odd" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetNotFoundError, match="missing IDX file.*test-labels"):
        load(tmp_path / "odd")


# -------------------------------------------------------------- fashion-mnist
def test_fashion_mnist_missing_error_is_clear(tmp_path, monkeypatch):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        load("fashion-mnist", root=tmp_path)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "root=" in message and "CHAINRULE_DATA" in message


def test_fashion_mnist_found_through_root_and_env(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path / "fashion-mnist")
    bundle = load("fashion-mnist", root=tmp_path)
    assert bundle.name == "fashion-mnist" and bundle.class_names[0] == "T-shirt/top"
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert find_fashion_mnist() == tmp_path / "fashion-mnist"


def test_root_only_for_file_sets():
    with pytest.raises(TypeError, match="root applies to fashion-mnist"):
        load("xor", root="/tmp")


@pytest.mark.skipif(find_fashion_mnist() is None, reason="fashion-mnist IDX files not installed")
def test_fashion_mnist_real_files():
    bundle = load("fashion-mnist")
    assert bundle.X_train.shape == (60000, 1, 28, 28) and bundle.X_test.shape == (10000, 1, 28, 28)
    assert bundle.X_train.dtype == np.float32
    assert 0.0 <= bundle.X_train.min() and bundle.X_train.max() <= 1.0
    assert bundle.num_classes == 10 and len(bundle.class_names) == 10
    np.testing.assert_array_equal(np.bincount(bundle.y_test), 1000)


# ----------------------------------------------------------------------- CSV
def test_csv_with_header_and_named_target(tmp_path):
    path = tmp_path / "flowers.csv"
    rows = ["a,b,label"] + [f"{i},{i * 2.5},{'cat' if i % 2 else 'dog'}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n")
    bundle = load(path, seed=0)
    assert bundle.task == "classification" and bundle.num_classes == 2
    assert bundle.class_names == ["cat", "dog"]
    assert bundle.feature_names == ["a", "b"]
    assert len(bundle.X_train) == 16 and len(bundle.X_test) == 4
    X = np.concatenate([bundle.X_train, bundle.X_test])
    y = np.concatenate([bundle.y_train, bundle.y_test])
    np.testing.assert_allclose(X[:, 1], X[:, 0] * 2.5)
    np.testing.assert_array_equal(y, np.where(X[:, 0] % 2 == 1, 0, 1))
    assert bundle.name == "flowers"


def test_csv_without_header_uses_last_column_and_infers_regression(tmp_path):
    path = tmp_path / "reg.csv"
    path.write_text("\n".join(f"{i},{i + 0.5}" for i in range(10)))
    bundle = load(path)
    assert bundle.task == "regression" and bundle.y_train.shape == (8, 1)
    np.testing.assert_allclose(bundle.y_train[:, 0], bundle.X_train[:, 0] + 0.5)
    assert bundle.feature_names is None


def test_csv_target_by_index_and_task_override(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("y,x1,x2\n" + "\n".join(f"{i % 3},{i},{-i}" for i in range(30)))
    bundle = load(path)  # column named 'y'
    assert bundle.num_classes == 3 and bundle.feature_names == ["x1", "x2"]
    reg = load(path, target=1, task="regression")
    assert reg.task == "regression" and reg.feature_names == ["y", "x2"]
    with pytest.raises(ValueError, match=r"target column 'z' not found.*\['y', 'x1', 'x2'\]"):
        load(path, target="z")


def test_csv_non_numeric_feature_names_column_and_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,target\n1,2,0\n3,oops,1\n")
    with pytest.raises(DataFormatError, match=r"'oops' in column 'x2' on line 3;") as caught:
        load(path)
    assert caught.value.line == 3 and caught.value.path == str(path)


def test_csv_nan_and_ragged_rows(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text(
        "x1,x2,target\n" + "\n".join(f"{i},{'nan' if i == 7 else i},{i % 2}" for i in range(10))
    )
    with pytest.raises(ValueError, match="1 NaN or infinite value"):
        load(path)
    path.write_text("1,2,0\n3,4\n")
    with pytest.raises(ValueError, match="line 2 has 2 fields, expected 3"):
        load(path)


def test_csv_semicolon_delimiter(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;target\n" + "\n".join(f"{i};{i % 2}" for i in range(10)))
    assert load(path).input_shape == (1,)


# ----------------------------------------------------------------------- npz
def test_npz_with_and_without_test_arrays(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = np.repeat([10, 20], 25)
    np.savez(tmp_path / "split.npz", X=X, y=y)
    bundle = load(tmp_path / "split.npz", seed=0)
    assert bundle.class_names == ["10", "20"] and bundle.num_classes == 2
    assert len(bundle.X_train) == 40 and np.bincount(bundle.y_test).tolist() == [5, 5]
    np.savez(
        tmp_path / "given.npz",
        X=X,
        y=np.arange(50) % 2,
        X_test=X[:7],
        y_test=np.arange(7) % 2,
        class_names=np.array(["no", "yes"]),
    )
    bundle = load(tmp_path / "given.npz")
    assert len(bundle.X_train) == 50 and len(bundle.X_test) == 7
    assert bundle.class_names == ["no", "yes"]
    np.savez(tmp_path / "reg.npz", X=X, y=X.sum(axis=1))
    assert load(tmp_path / "reg.npz").task == "regression"
    assert load(tmp_path / "given.npz", task="regression").y_train.dtype == np.float32


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "short.npz", X=np.ones((5, 2)), y=np.ones(4, dtype=np.int64))
    with pytest.raises(ValueError, match=r"same number of samples.*\(5, 2\).*\(4,\)"):
        load(tmp_path / "short.npz")
    np.savez(tmp_path / "nokey.npz", data=np.ones((5, 2)))
    with pytest.raises(ValueError, match="must hold arrays 'X' and 'y'"):
        load(tmp_path / "nokey.npz")
    X = np.ones((6, 2))
    X[4, 1] = np.inf
    np.savez(tmp_path / "inf.npz", X=X, y=np.arange(6) % 2, X_test=X, y_test=np.arange(6) % 2)
    with pytest.raises(
        NonFiniteValueError,
        match=r"array 'X' holds 1 NaN or infinite value; the first is at record 4",
    ):
        load(tmp_path / "inf.npz")
    np.savez(tmp_path / "obj.npz", X=np.array([object(), object()], dtype=object), y=np.arange(2))
    with pytest.raises(ValueError, match="without pickle"):
        load(tmp_path / "obj.npz")


def test_missing_path_and_unsupported_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        load(tmp_path / "absent.csv")
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(ValueError, match="expected a folder of IDX files, a .csv or a .npz"):
        load(tmp_path / "data.json")


def test_csv_test_data_is_the_test_split_and_must_share_the_columns(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("a;b;kind\n" + "\n".join(f"{i};{i % 3};{'xy'[i % 2]}" for i in range(20)))
    test = tmp_path / "test.csv"
    test.write_text("a;b;kind\n1;2;x\n3;4;y\n5;6;y\n")
    bundle = load(train, test_data=test)
    assert (len(bundle.X_train), len(bundle.X_test)) == (20, 3)
    assert bundle.class_names == ["x", "y"] and bundle.y_test.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(bundle.X_test, [[1, 2], [3, 4], [5, 6]])
    other = tmp_path / "other.csv"
    other.write_text("a;c;kind\n1;2;x\n")
    with pytest.raises(DataContentError, match=r"feature columns \['a', 'c'\] differ"):
        load(train, test_data=other)


def test_whole_number_float_targets_are_classes_with_a_note(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("a,y\n" + "\n".join(f"{i},{float(i % 3)}" for i in range(30)))
    bundle = load(path)
    assert bundle.task == "classification" and bundle.num_classes == 3
    assert "whole numbers only" in bundle.notes[0]
    assert load(path, task="regression").task == "regression"


def test_max_bytes_bounds_every_file_loader(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,y\n" + "\n".join(f"{i},{i % 2}" for i in range(200)))
    with pytest.raises(DataTooLargeError, match="over the limit of 100 bytes"):
        load(path, max_bytes=100)
    np.savez(tmp_path / "a.npz", X=np.ones((50, 4)), y=np.arange(50) % 2)
    with pytest.raises(DataTooLargeError, match="array 'X'"):
        load(tmp_path / "a.npz", max_bytes=1000)
    assert len(load(tmp_path / "a.npz", max_bytes=10_000).X_train) == 40
