"""Property-based fuzzing of the IDX, CSV and npz loaders: whatever the bytes, a loader returns
data or raises one of its documented errors (:mod:`chainrule.data.datasets.errors`), and never
allocates much more than its ``max_bytes`` limit."""

import gzip
import io
import os
import tempfile
import tracemalloc
import zipfile

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from chainrule.data.datasets import (  # noqa: E402
    DataFileError,
    DatasetBundle,
    DatasetNotFoundError,
    load,
    read_idx,
    write_idx,
)

DOCUMENTED = (DataFileError, DatasetNotFoundError)
LIMIT = 1 << 16  # max_bytes for the fuzzed files: 64 KiB
PEAK = 16 << 20  # what a loader may allocate at most, for files this small: 16 MiB
FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

pytestmark = pytest.mark.timeout(300)


def mutate(data: bytes, how: tuple) -> bytes:
    """Truncate, flip a byte, or append bytes."""
    kind, position, extra = how
    if not data:
        return extra
    position %= len(data)
    if kind == "truncate":
        return data[:position]
    if kind == "flip":
        return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]
    return data[:position] + extra + data[position:]


mutations = st.tuples(
    st.sampled_from(["truncate", "flip", "insert"]),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=16),
)


def load_bounded(function, *args, **kwargs):
    """Call ``function``; return its result or the documented error, and check the peak
    allocation."""
    tracemalloc.start()
    try:
        return function(*args, **kwargs)
    except DOCUMENTED as error:
        assert str(error).strip(), "an error without a message"
        return error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < PEAK, f"{function.__name__} allocated {peak} bytes"


def in_file(name: str, data: bytes, check):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return check(path)


idx_arrays = st.tuples(
    st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]),
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
)


@FUZZ
@given(idx_arrays, mutations, st.booleans(), st.booleans())
def test_read_idx_returns_data_or_a_documented_error(spec, how, compress, mutate_after):
    dtype, shape = spec
    array = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "x-idx-ubyte")
        write_idx(path, array)
        raw = open(path, "rb").read()
    data = raw if mutate_after else mutate(raw, how)
    if compress:
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb") as handle:
            handle.write(data)
        data = buffer.getvalue()
    if mutate_after:
        data = mutate(data, how)
    result = in_file("x-idx-ubyte", data, lambda p: load_bounded(read_idx, p, max_bytes=LIMIT))
    if isinstance(result, np.ndarray):
        assert result.nbytes <= LIMIT


@FUZZ
@given(st.binary(max_size=300))
def test_read_idx_on_random_bytes(data):
    in_file("r-idx-ubyte", data, lambda p: load_bounded(read_idx, p, max_bytes=LIMIT))


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.integers(-(10**40), 10**40).map(str),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.sampled_from(["", " ", '"', '"a,b"', "nan", "1e999", "0.0", "1.0"]),
)
tables = st.lists(st.lists(cells, min_size=1, max_size=5), min_size=0, max_size=25)


@FUZZ
@given(tables, st.sampled_from([",", ";", "\t"]), st.booleans(), mutations, st.booleans())
def test_load_csv_returns_data_or_a_documented_error(rows, delimiter, header, how, corrupt):
    lines = [delimiter.join(f"c{k}" for k in range(len(rows[0])))] if header and rows else []
    lines += [delimiter.join(row) for row in rows]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if corrupt:
        data = mutate(data, how)
    result = in_file("t.csv", data, lambda p: load_bounded(load, p, max_bytes=LIMIT))
    assert isinstance(result, (DatasetBundle, *DOCUMENTED))
    if isinstance(result, DatasetBundle):
        assert len(result.X_train) and len(result.X_test)
        assert np.isfinite(result.X_train).all() and np.isfinite(result.X_test).all()


@FUZZ
@given(
    st.integers(0, 8),
    st.integers(1, 3),
    st.sampled_from(["int", "float", "str", "nan"]),
    st.booleans(),
    mutations,
    st.booleans(),
)
def test_load_npz_returns_data_or_a_documented_error(n, features, labels, with_test, how, corrupt):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, features))
    y = {
        "int": np.arange(n) % 3,
        "float": rng.normal(size=n),
        "str": np.array([f"k{i % 2}" for i in range(n)]),
        "nan": np.full(n, np.nan),
    }[labels]
    arrays = {"X": X, "y": y}
    if with_test:
        arrays.update(X_test=X[:2], y_test=y[:2])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays) if n % 2 else np.savez(buffer, **arrays)
    data = mutate(buffer.getvalue(), how) if corrupt else buffer.getvalue()
    result = in_file("a.npz", data, lambda p: load_bounded(load, p, max_bytes=LIMIT))
    assert isinstance(result, (DatasetBundle, *DOCUMENTED))


def test_npz_member_declaring_a_huge_shape_is_refused_without_allocating(tmp_path):
    header = io.BytesIO()
    np.save(header, np.ones((3, 4)))
    with zipfile.ZipFile(tmp_path / "big.npz", "w") as archive:
        archive.writestr("X.npy", header.getvalue().replace(b"(3, 4)", b"(10000000000, 4)"))
        archive.writestr("y.npy", header.getvalue())
    result = load_bounded(load, tmp_path / "big.npz")
    assert isinstance(result, DataFileError) and "declares shape (10000000000, 4)" in str(result)


def test_gzip_bomb_is_refused_before_inflating(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(bytes([0, 0, 8, 1]) + (50_000_000).to_bytes(4, "big"))
        for _ in range(50):
            handle.write(bytes(1 << 20))
    assert path.stat().st_size < 100_000
    result = load_bounded(read_idx, path, max_bytes=10 << 20)
    assert isinstance(result, DataFileError) and "over the limit" in str(result)
    assert "--max-data-mb 48" in str(result)
