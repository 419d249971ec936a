"""Datasets read from files: IDX (MNIST format) folders, fashion-mnist, CSV and .npz.

No pickle anywhere: ``.npz`` files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

from ...backend import xp
from ._bundle import (
    DatasetNotFoundError,
    encode_labels,
    finalize,
    infer_task,
    train_test_indices,
)

__all__ = [
    "FASHION_MNIST_CLASSES",
    "fashion_mnist_dirs",
    "find_fashion_mnist",
    "find_idx_files",
    "load_csv",
    "load_fashion_mnist",
    "load_idx_folder",
    "load_npz",
    "read_idx",
    "write_idx",
]

# IDX type codes (the third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {
    0x08: xp.dtype(xp.uint8),
    0x09: xp.dtype(xp.int8),
    0x0B: xp.dtype(">i2"),
    0x0C: xp.dtype(">i4"),
    0x0D: xp.dtype(">f4"),
    0x0E: xp.dtype(">f8"),
}
_IDX_CODES = {dtype.newbyteorder("=") if dtype.itemsize > 1 else dtype: code
              for code, dtype in _IDX_DTYPES.items()}


# ----------------------------------------------------------------------- IDX
def read_idx(path) -> xp.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B
    int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions,
    then each dimension as a big-endian uint32; the data follows, big-endian,
    in C order. Gzip is detected from the content, not the name.

    Returns
    -------
    ndarray with the file's shape, in native byte order.

    Raises
    ------
    ValueError
        When the header is invalid or the data size does not match the dimensions.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the magic number must start with two zero bytes)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: unknown IDX type code 0x{code:02X}; expected one of "
            + ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        )
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({ndim} dimensions, {len(raw)} bytes)")
    dims = tuple(int(d) for d in xp.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(xp.prod(dims, dtype=xp.int64)) * dtype.itemsize
    received = len(raw) - 4 - 4 * ndim
    if received != expected:
        raise ValueError(
            f"{path}: IDX dimensions {dims} of {dtype.name} need {expected} data bytes, "
            f"the file holds {received}"
        )
    data = xp.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write ``array`` as an IDX file; gzipped when ``path`` ends in ``.gz``.

    Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    array = xp.asarray(array)
    code = _IDX_CODES.get(array.dtype)
    if code is None or array.ndim == 0 or array.ndim > 255:
        raise TypeError(
            f"write_idx: expected an array of uint8, int8, int16, int32, float32 or float64 with "
            f"1..255 dimensions, received dtype {array.dtype} with {array.ndim} dimensions"
        )
    header = bytes([0, 0, code, array.ndim]) + xp.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(_IDX_DTYPES[code], copy=False).tobytes(order="C")
    path = Path(path)
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def _idx_slot(filename: str):
    """('train'|'test', 'images'|'labels') for MNIST-style file names, else None."""
    name = filename.lower()
    if name.startswith("train"):
        split = "train"
    elif name.startswith(("t10k", "test")):
        split = "test"
    else:
        return None
    if "images" in name or "idx3" in name:
        return split, "images"
    if "labels" in name or "idx1" in name:
        return split, "labels"
    return None


def find_idx_files(folder) -> dict:
    """Map ``(split, kind)`` to the IDX file in ``folder`` (uncompressed preferred over .gz).

    Recognises MNIST's names: ``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]`` and
    ``t10k-labels-idx1-ubyte[.gz]`` (also ``test-...`` and ``...images.idx3-ubyte``).
    """
    found = {}
    folder = Path(folder)
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir(), key=lambda p: (p.suffix == ".gz", p.name)):
        if not entry.is_file() or "ubyte" not in entry.name.lower() and "idx" not in entry.name.lower():
            continue
        slot = _idx_slot(entry.name)
        if slot is not None and slot not in found:
            found[slot] = entry
    return found


_IDX_REQUIRED = (("train", "images"), ("train", "labels"), ("test", "images"), ("test", "labels"))


def _read_idx_split(files: dict, split: str, folder):
    images = read_idx(files[(split, "images")])
    labels = read_idx(files[(split, "labels")])
    if labels.ndim != 1:
        raise ValueError(f"{folder}: {split} labels must be 1-D, received shape {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(
            f"{folder}: {len(images)} {split} images but {len(labels)} {split} labels"
        )
    if images.dtype == xp.uint8:
        X = images.astype(xp.float32) / 255.0  # pixels to [0, 1]
    else:
        X = images.astype(xp.float32)
    if X.ndim == 3:  # (N, H, W) -> (N, 1, H, W): one channel, channels first
        X = X[:, None]
    return X, labels


def load_idx_folder(folder, *, name=None, class_names=None, description="", source=None,
                    standardize=False, task=None):
    """Load the four MNIST-format files from ``folder`` into a :class:`DatasetBundle`.

    uint8 images are scaled to [0, 1] float32 and given a channel axis:
    ``(N, 28, 28)`` becomes ``(N, 1, 28, 28)``. Labels not in ``0 .. C-1`` are
    mapped (and ``class_names`` lists the originals).
    """
    folder = Path(folder)
    files = find_idx_files(folder)
    missing = [f"{split}-{kind}" for split, kind in _IDX_REQUIRED if (split, kind) not in files]
    if missing:
        raise DatasetNotFoundError(
            f"{folder}: missing IDX file(s) for {', '.join(missing)}; expected "
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
            "t10k-labels-idx1-ubyte (each optionally .gz)"
        )
    X_train, y_train = _read_idx_split(files, "train", folder)
    X_test, y_test = _read_idx_split(files, "test", folder)
    task = task or "classification"
    num_classes = None
    if task == "classification":
        y_train, y_test, mapped_names, num_classes = encode_labels(y_train, y_test)
        if mapped_names is not None:
            class_names = mapped_names
        elif class_names is not None and len(class_names) != num_classes:
            num_classes = len(class_names)
    return finalize(
        name or folder.name, X_train, y_train, X_test, y_test, task=task, num_classes=num_classes,
        image_shape=X_train.shape[1:] if X_train.ndim >= 3 else None, class_names=class_names,
        description=description or f"MNIST-format IDX files in {folder}",
        source=source or str(folder.resolve()), standardize=standardize,
    )


# -------------------------------------------------------------- fashion-mnist
FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

_FASHION_HELP = (
    "Install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files go to "
    "/usr/share/datasets/fashion-mnist), or download train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from "
    "https://github.com/zalandoresearch/fashion-mnist into a folder and pass root=FOLDER "
    "(CLI: --data-root FOLDER) or set CHAINRULE_DATA=FOLDER."
)


def fashion_mnist_dirs(root=None) -> list[Path]:
    """The folders searched for fashion-mnist, in order.

    With ``root``: ``root`` and ``root/fashion-mnist`` only. Otherwise
    ``$CHAINRULE_DATA`` (and its ``fashion-mnist`` subfolder), the Debian
    package's ``/usr/share/datasets/fashion-mnist``, ``~/.chainrule/data/fashion-mnist``,
    ``~/.keras/datasets/fashion-mnist`` and ``./data/fashion-mnist``.
    """
    if root is not None:
        bases = [Path(root).expanduser()]
    else:
        bases = []
        if os.environ.get("CHAINRULE_DATA"):
            bases.append(Path(os.environ["CHAINRULE_DATA"]).expanduser())
        bases += [
            Path("/usr/share/datasets"),
            Path.home() / ".chainrule" / "data",
            Path.home() / ".keras" / "datasets",
            Path("data"),
        ]
    dirs = []
    for base in bases:
        for candidate in (base, base / "fashion-mnist", base / "fashion_mnist"):
            if candidate not in dirs:
                dirs.append(candidate)
    return dirs


def find_fashion_mnist(root=None) -> Path | None:
    """The first folder of :func:`fashion_mnist_dirs` holding all four IDX files, or None."""
    for folder in fashion_mnist_dirs(root):
        if all(slot in find_idx_files(folder) for slot in _IDX_REQUIRED):
            return folder
    return None


def load_fashion_mnist(*, root=None, standardize=False, seed=0, test_size=None):
    """Fashion-MNIST: 60000 train / 10000 test 28x28 grey images of 10 clothing classes.

    Pixels are scaled to [0, 1] float32 with shape ``(N, 1, 28, 28)``. The
    official split is used (``seed`` and ``test_size`` do not apply).

    Raises
    ------
    DatasetNotFoundError
        When the IDX files are in none of the searched folders; the message
        lists them and says how to install the data.
    """
    folder = find_fashion_mnist(root)
    if folder is None:
        searched = ", ".join(str(d) for d in fashion_mnist_dirs(root))
        raise DatasetNotFoundError(f"fashion-mnist: IDX files not found (searched: {searched}). "
                                   + _FASHION_HELP)
    return load_idx_folder(
        folder, name="fashion-mnist", class_names=list(FASHION_MNIST_CLASSES),
        description="Fashion-MNIST: 28x28 grey-scale images of 10 kinds of clothing "
        "(60000 train / 10000 test)",
        source=f"Xiao, Rasul & Vollgraf (2017), Zalando Research; read from {folder}",
        standardize=standardize,
    )


# ----------------------------------------------------------------------- CSV
_TARGET_NAMES = ("target", "label", "labels", "y", "class")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _sniff_delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    for candidate in (";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def load_csv(path, *, target=None, header=None, delimiter=None, task=None, seed=0, test_size=0.2,
             standardize=False):
    """Load a CSV file of numeric features and one target column.

    Parameters
    ----------
    path : str or Path
    target : str or int, optional
        The target column, by name (needs a header) or position (negative
        counts from the end). Default: a column named target, label, labels, y
        or class (any case) if there is a header, else the last column.
    header : bool, optional
        Whether the first row holds column names; detected when None (it does
        when some column is non-numeric in the first row but numeric in the second).
    delimiter : str, optional
        Detected from the first line (``,``, ``;`` or tab) when None.
    task : {'classification', 'regression'}, optional
        Inferred when None: integer or text targets mean classification.
    seed, test_size :
        The seeded (stratified, for classification) train/test split.
    standardize : bool
        Standardise features with the training statistics.

    Raises
    ------
    ValueError
        On a non-numeric feature value (naming the column and the row), rows
        of different lengths, an unknown target column, NaN/inf values.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ValueError(f"{path}: the CSV file is empty")
    if delimiter is None:
        delimiter = _sniff_delimiter(next(line for line in lines if line.strip()))
    reader = csv.reader(lines, delimiter=delimiter)
    rows, line_numbers = [], []
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue
        rows.append([cell.strip() for cell in row])
        line_numbers.append(reader.line_num)
    width = len(rows[0])
    for row, line in zip(rows, line_numbers):
        if len(row) != width:
            raise ValueError(f"{path}: line {line} has {len(row)} fields, expected {width}")
    if width < 2:
        raise ValueError(f"{path}: expected at least 2 columns (features and a target), received {width}")
    if header is None:
        if len(rows) > 1:
            header = any(not _is_number(a) and _is_number(b) for a, b in zip(rows[0], rows[1]))
        else:
            header = not all(_is_number(cell) for cell in rows[0])
    names = rows[0] if header else [f"column {k}" for k in range(width)]
    if header:
        rows, line_numbers = rows[1:], line_numbers[1:]
    if not rows:
        raise ValueError(f"{path}: the CSV file has a header but no data rows")

    if target is None:
        lowered = [n.lower() for n in names]
        matches = [k for k, n in enumerate(lowered) if header and n in _TARGET_NAMES]
        target_col = matches[0] if matches else width - 1
    elif isinstance(target, int) and not isinstance(target, bool):
        if not -width <= target < width:
            raise ValueError(f"{path}: target column {target} is out of range for {width} columns")
        target_col = target % width
    elif isinstance(target, str):
        if target not in names:
            raise ValueError(
                f"{path}: target column {target!r} not found; the columns are {names}"
                + ("" if header else " (the file has no header row; give target as an int)")
            )
        target_col = names.index(target)
    else:
        raise TypeError(f"target: expected a column name or index, received {type(target).__name__}")

    feature_cols = [k for k in range(width) if k != target_col]
    X = xp.empty((len(rows), len(feature_cols)), dtype=xp.float64)
    for r, (row, line) in enumerate(zip(rows, line_numbers)):
        for j, k in enumerate(feature_cols):
            try:
                X[r, j] = float(row[k])
            except ValueError:
                raise ValueError(
                    f"{path}: non-numeric value {row[k]!r} in column {names[k]!r} at data row "
                    f"{r + 1} (line {line}); features must be numbers"
                ) from None
    target_values = [row[target_col] for row in rows]
    if all(_is_integer(v) for v in target_values):
        y = xp.asarray([int(v) for v in target_values], dtype=xp.int64)
    elif all(_is_number(v) for v in target_values):
        y = xp.asarray([float(v) for v in target_values], dtype=xp.float64)
    else:
        y = xp.asarray(target_values)
        if task == "regression":
            bad = next(r for r, v in enumerate(target_values) if not _is_number(v))
            raise ValueError(
                f"{path}: non-numeric value {target_values[bad]!r} in target column "
                f"{names[target_col]!r} at data row {bad + 1} (line {line_numbers[bad]}); "
                "regression targets must be numbers"
            )
    return _from_arrays(
        path, X, y, None, None, task=task, seed=seed, test_size=test_size, standardize=standardize,
        feature_names=[names[k] for k in feature_cols] if header else None,
        description=f"CSV file {path.name} (target column {names[target_col]!r})",
    )


# ----------------------------------------------------------------------- npz
def load_npz(path, *, task=None, seed=0, test_size=0.2, standardize=False):
    """Load a ``.npz`` holding ``X`` and ``y`` (optionally ``X_test`` and ``y_test``).

    Optional string arrays ``feature_names`` and ``class_names`` are used when
    present. Without ``X_test``/``y_test`` a seeded train/test split is made.
    Read with ``allow_pickle=False``: object arrays are refused.
    """
    path = Path(path)
    try:
        with xp.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except ValueError as error:
        raise ValueError(f"{path}: cannot read the .npz without pickle ({error}); store plain "
                         "numeric or string arrays") from error
    for key in ("X", "y"):
        if key not in arrays:
            raise ValueError(f"{path}: the .npz must hold arrays 'X' and 'y'; it holds {sorted(arrays)}")
    if ("X_test" in arrays) != ("y_test" in arrays):
        raise ValueError(f"{path}: give both 'X_test' and 'y_test' or neither; it holds {sorted(arrays)}")
    feature_names = arrays.get("feature_names")
    class_names = arrays.get("class_names")
    return _from_arrays(
        path, arrays["X"], arrays["y"], arrays.get("X_test"), arrays.get("y_test"), task=task,
        seed=seed, test_size=test_size, standardize=standardize,
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
        class_names=None if class_names is None else [str(c) for c in class_names],
        description=f"NumPy archive {path.name}",
    )


def _from_arrays(path, X, y, X_test, y_test, *, task, seed, test_size, standardize,
                 feature_names=None, class_names=None, description=""):
    """Shared tail of the CSV and npz loaders: task, label mapping, split, validation."""
    X, y = xp.asarray(X), xp.asarray(y)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{path}: X must be numeric, received dtype {X.dtype}")
    if X.ndim == 1:
        X = X[:, None]
    if y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"{path}: X and y must have the same number of samples, received X shape {X.shape} "
            f"and y shape {y.shape}"
        )
    if X_test is not None:
        X_test, y_test = xp.asarray(X_test), xp.asarray(y_test)
        if X_test.ndim == 1:
            X_test = X_test[:, None]
        if y_test.ndim == 0 or len(X_test) != len(y_test):
            raise ValueError(
                f"{path}: X_test and y_test must have the same number of samples, received "
                f"X_test shape {X_test.shape} and y_test shape {y_test.shape}"
            )
    task = task or infer_task(y)
    num_classes = None
    if task == "classification":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{path}: classification labels must be 1-D, received shape {y.shape}")
        if y_test is not None:
            y_test = y_test.reshape(-1)
            y, y_test, mapped_names, num_classes = encode_labels(y, y_test)
        else:
            y, mapped_names, num_classes = encode_labels(y)
        if mapped_names is not None and class_names is None:
            class_names = mapped_names
        if class_names is not None and len(class_names) != num_classes:
            class_names = None
    elif y.dtype.kind not in "biuf":
        raise ValueError(f"{path}: regression targets must be numeric, received dtype {y.dtype}")
    if X_test is None:
        train, test = train_test_indices(
            len(X), test_size, seed, labels=y if task == "classification" else None
        )
        X, y, X_test, y_test = X[train], y[train], X[test], y[test]
    return finalize(
        path.stem, X, y, X_test, y_test, task=task, num_classes=num_classes,
        image_shape=X.shape[1:] if X.ndim >= 3 else None, feature_names=feature_names,
        class_names=class_names, description=description, source=str(path.resolve()),
        standardize=standardize,
    )
