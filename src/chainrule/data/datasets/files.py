"""Datasets read from files: IDX (MNIST format) folders, fashion-mnist, CSV and .npz.

No pickle anywhere: ``.npz`` files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path

from ...backend import host, xp
from ._bundle import encode_labels, finalize, infer_task, train_test_indices
from .errors import (
    DEFAULT_MAX_BYTES,
    DataContentError,
    DataFileError,
    DataFormatError,
    DatasetNotFoundError,
    NonFiniteValueError,
    too_large,
)

__all__ = [
    "FASHION_MNIST_CLASSES",
    "CSVLayout",
    "check_finite_records",
    "csv_layout",
    "idx_images_as_float",
    "read_csv_columns",
    "read_npy",
    "read_npz",
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
_IDX_CODES = {
    dtype.newbyteorder("=") if dtype.itemsize > 1 else dtype: code
    for code, dtype in _IDX_DTYPES.items()
}


# ----------------------------------------------------------------------- IDX
_CHUNK = 1 << 22  # bytes read at a time, so a file is never held twice


def _open_maybe_gzip(path: Path):
    """A binary file object over ``path``, decompressing gzip (detected from the content)."""
    handle = path.open("rb")
    if handle.read(2) == b"\x1f\x8b":
        handle.close()
        return gzip.open(path, "rb"), True
    handle.seek(0)
    return handle, False


def _read_exactly(handle, count: int):
    """``count`` bytes from ``handle`` into one preallocated buffer; fewer if the file ends."""
    buffer = bytearray(count)
    view, filled = memoryview(buffer), 0
    while filled < count:
        got = handle.readinto(view[filled : filled + _CHUNK])
        if not got:
            break
        filled += got
    return buffer, filled


def read_idx(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> xp.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw.

    The header is two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B
    int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions,
    then each dimension as a big-endian uint32; the data follows, big-endian,
    in C order. Gzip is detected from the content, not the name. The data is
    read in chunks into one buffer of the size the header declares, after
    checking that size against ``max_bytes``, so neither a corrupt header nor a
    gzip bomb can make the reader allocate more than the limit.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        The most data bytes accepted (default :data:`DEFAULT_MAX_BYTES`).

    Returns
    -------
    ndarray with the file's shape, in native byte order.

    Raises
    ------
    DataFormatError
        An invalid header or gzip stream, or data that does not match the dimensions.
    DataTooLargeError
        A declared data size over ``max_bytes``.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx1-ubyte")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path).tolist()
    [3, 1, 4]
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"read_idx: no such file: {str(path)!r}")
    try:
        handle, gzipped = _open_maybe_gzip(path)
        with handle:
            return _read_idx_stream(path, handle, gzipped, max_bytes)
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataFormatError(path, f"the gzip stream is truncated or corrupt ({error})") from None


def _read_idx_stream(path, handle, gzipped, max_bytes):
    head = handle.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise DataFormatError(
            path, "not an IDX file (the magic number must start with two zero bytes)"
        )
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise DataFormatError(
            path,
            f"unknown IDX type code 0x{code:02X}; expected one of "
            + ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES),
        )
    dim_bytes = handle.read(4 * ndim)
    if ndim == 0 or len(dim_bytes) < 4 * ndim:
        raise DataFormatError(
            path, f"truncated IDX header ({ndim} dimensions, {4 + len(dim_bytes)} header bytes)"
        )
    dims = tuple(int.from_bytes(dim_bytes[4 * k : 4 * k + 4], "big") for k in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    if expected > max_bytes:
        raise too_large(
            path,
            f"the data its header declares (dimensions {dims} of {dtype.name})",
            expected,
            max_bytes,
        )
    if not gzipped:
        stored = path.stat().st_size - 4 - 4 * ndim
        if stored != expected:
            raise DataFormatError(
                path,
                f"IDX dimensions {dims} of {dtype.name} need {expected} "
                f"data bytes, the file holds {stored}",
            )
    buffer, filled = _read_exactly(handle, expected)
    if filled < expected or handle.read(1):
        held = f"{filled}" if filled < expected else "more"
        raise DataFormatError(
            path,
            f"IDX dimensions {dims} of {dtype.name} need {expected} data "
            f"bytes, the file holds {held}",
        )
    data = xp.frombuffer(buffer, dtype=dtype).reshape(dims)
    return data if dtype.itemsize == 1 else data.astype(dtype.newbyteorder("="))


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
        if (
            not entry.is_file()
            or "ubyte" not in entry.name.lower()
            and "idx" not in entry.name.lower()
        ):
            continue
        slot = _idx_slot(entry.name)
        if slot is not None and slot not in found:
            found[slot] = entry
    return found


_IDX_REQUIRED = (("train", "images"), ("train", "labels"), ("test", "images"), ("test", "labels"))


def idx_images_as_float(images):
    """IDX images as a model sees them: float32, uint8 pixels scaled to [0, 1], and
    ``(N, H, W)`` given a channel axis, ``(N, 1, H, W)``."""
    X = images.astype(xp.float32) / 255.0 if images.dtype == xp.uint8 else images.astype(xp.float32)
    return X[:, None] if X.ndim == 3 else X


def _read_idx_split(files: dict, split: str, folder, max_bytes):
    images = read_idx(files[(split, "images")], max_bytes=max_bytes)
    labels = read_idx(files[(split, "labels")], max_bytes=max_bytes)
    if labels.ndim != 1:
        raise DataContentError(
            files[(split, "labels")], f"{split} labels must be 1-D, received shape {labels.shape}"
        )
    if len(images) != len(labels):
        raise DataContentError(
            folder, f"{len(images)} {split} images but {len(labels)} {split} labels"
        )
    for kind, values in (("images", images), ("labels", labels)):
        if values.dtype.kind == "f":
            check_finite_records(files[(split, kind)], values, "")
    return idx_images_as_float(images), labels


def load_idx_folder(
    folder,
    *,
    name=None,
    class_names=None,
    description="",
    source=None,
    standardize=False,
    task=None,
    max_bytes: int = DEFAULT_MAX_BYTES,
):
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
    X_train, y_train = _read_idx_split(files, "train", folder, max_bytes)
    X_test, y_test = _read_idx_split(files, "test", folder, max_bytes)
    task = task or "classification"
    num_classes = None
    if task == "classification":
        y_train, y_test, mapped_names, num_classes = encode_labels(y_train, y_test)
        if mapped_names is not None:
            class_names = mapped_names
        elif class_names is not None and len(class_names) != num_classes:
            num_classes = len(class_names)
    return finalize(
        name or folder.name,
        X_train,
        y_train,
        X_test,
        y_test,
        task=task,
        num_classes=num_classes,
        image_shape=X_train.shape[1:] if X_train.ndim >= 3 else None,
        class_names=class_names,
        description=description or f"MNIST-format IDX files in {folder}",
        source=source or str(folder.resolve()),
        standardize=standardize,
    )


# -------------------------------------------------------------- fashion-mnist
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
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


def load_fashion_mnist(
    *, root=None, standardize=False, seed=0, test_size=None, max_bytes: int = DEFAULT_MAX_BYTES
):
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
        raise DatasetNotFoundError(
            f"fashion-mnist: IDX files not found (searched: {searched}). " + _FASHION_HELP
        )
    return load_idx_folder(
        folder,
        name="fashion-mnist",
        class_names=list(FASHION_MNIST_CLASSES),
        description="Fashion-MNIST: 28x28 grey-scale images of 10 kinds of clothing "
        "(60000 train / 10000 test)",
        source=f"Xiao, Rasul & Vollgraf (2017), Zalando Research; read from {folder}",
        standardize=standardize,
        max_bytes=max_bytes,
    )


# ------------------------------------------------------------ finite values
def check_finite_records(path, array, name: str, lines=None, columns=None) -> None:
    """Raise :class:`NonFiniteValueError` if ``array`` holds NaN or inf, naming the first one's
    record (or its line in a text file, with ``lines[record]``, and its column, with
    ``columns[j]``) and counting them all."""
    array = xp.asarray(array)
    if array.dtype.kind not in "fc":
        return
    bad = ~xp.isfinite(array)
    count = int(bad.sum())
    if not count:
        return
    first = tuple(int(i) for i in xp.argwhere(bad)[0])
    record = first[0]
    where = f"line {int(lines[record])}" if lines is not None else f"record {record}"
    if columns is not None and len(first) == 2:
        where += f", column {columns[first[1]]!r}"
    elif len(first) > 1:
        where += f", position {first[1:]}"
    label = f"{name} " if name else ""
    raise NonFiniteValueError(
        path,
        f"{label}holds {count} NaN or infinite value{'s' if count > 1 else ''}; the first "
        f"is at {where} (value {array[first]})",
        line=None if lines is None else int(lines[record]),
        record=record,
    )


# ----------------------------------------------------------------------- CSV
_TARGET_NAMES = ("target", "label", "labels", "y", "class")


def _is_number(text: str) -> bool:
    try:
        float(text)
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


@dataclass(frozen=True)
class CSVLayout:
    """What the first rows of a CSV file say about it.

    Attributes
    ----------
    path : Path
    delimiter : str
    header : bool
        Whether the first row holds column names.
    names : list of str
        The column names (``column 0``, ``column 1``, ... without a header).
    """

    path: Path
    delimiter: str
    header: bool
    names: list


def _csv_rows(path: Path, delimiter: str):
    """(line, stripped cells) for each non-blank row; format problems as DataFormatError."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line = max(reader.line_num, 1)
                raise DataFormatError(path, f"line {line}: {error}", line=line) from None
            except UnicodeDecodeError as error:
                raise DataFormatError(
                    path,
                    f"not UTF-8 text near line {reader.line_num + 1} ({error.reason})",
                    line=reader.line_num + 1,
                ) from None
            if row and any(cell.strip() for cell in row):
                yield reader.line_num, [cell.strip() for cell in row]


def _first_line(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line in handle:
                if line.strip():
                    return line
    except UnicodeDecodeError as error:
        raise DataFormatError(path, f"not UTF-8 text ({error.reason})") from None
    return ""


def csv_layout(
    path, *, header=None, delimiter=None, max_bytes: int = DEFAULT_MAX_BYTES
) -> CSVLayout:
    """Read the first two rows of a CSV file: its delimiter, header and column names.

    ``delimiter`` (``,``, ``;`` or tab) is detected from the first line and
    ``header`` from the first two rows (a header when some column is
    non-numeric in the first row but numeric in the second) when None.

    Raises
    ------
    DatasetNotFoundError, DataTooLargeError, DataFormatError, DataContentError
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"load_csv: no such file: {str(path)!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise too_large(path, "the CSV file", size, max_bytes)
    if delimiter is None:
        delimiter = _sniff_delimiter(_first_line(path))
    first = []
    for item in _csv_rows(path, delimiter):
        first.append(item)
        if len(first) == 2:
            break
    if not first:
        raise DataContentError(path, "the CSV file is empty")
    width = len(first[0][1])
    if header is None:
        if len(first) > 1:
            header = any(
                not _is_number(a) and _is_number(b)
                for a, b in zip(first[0][1], first[1][1], strict=False)
            )
        else:
            header = not all(_is_number(cell) for cell in first[0][1])
    names = list(first[0][1]) if header else [f"column {k}" for k in range(width)]
    return CSVLayout(path, delimiter, bool(header), names)


def read_csv_columns(layout: CSVLayout, numeric: list, text=None):
    """Read columns of a CSV file: the ``numeric`` column indices as a float64 (N, len(numeric))
    array, the ``text`` column (an index or None) as a list of strings, and each row's line.

    Values are parsed row by row into a flat buffer of doubles, so memory stays near
    8 bytes a value. Every row must have as many fields as the first.

    Raises
    ------
    DataFormatError
        A row of another length, a non-numeric value in a numeric column, or a malformed line.
    DataContentError
        No data rows.
    """
    path, names, width = layout.path, layout.names, len(layout.names)
    values, texts, lines = array("d"), [], array("q")
    rows = _csv_rows(path, layout.delimiter)
    if layout.header:
        next(rows)
    for line, row in rows:
        if len(row) != width:
            raise DataFormatError(
                path, f"line {line} has {len(row)} fields, expected {width}", line=line
            )
        for k in numeric:
            try:
                values.append(float(row[k]))
            except ValueError:
                raise DataFormatError(
                    path,
                    f"non-numeric value {row[k][:40]!r} in column {names[k]!r} on line "
                    f"{line}; features must be numbers",
                    line=line,
                ) from None
        if text is not None:
            texts.append(row[text])
        lines.append(line)
    if not lines:
        raise DataContentError(path, "the CSV file has a header but no data rows")
    X = xp.frombuffer(values, dtype=xp.float64).reshape(len(lines), len(numeric))
    return X, texts, xp.frombuffer(lines, dtype=xp.int64)


def _target_column(layout: CSVLayout, target) -> int:
    names, width = layout.names, len(layout.names)
    if target is None:
        lowered = [n.lower() for n in names] if layout.header else []
        found = [lowered.index(t) for t in _TARGET_NAMES if t in lowered]  # by priority
        return found[0] if found else width - 1
    if isinstance(target, str) and target not in names and _is_integer(target):
        target = int(target)
    if isinstance(target, int) and not isinstance(target, bool):
        if not -width <= target < width:
            raise DataContentError(
                layout.path, f"target column {target} is out of range for {width} columns"
            )
        return target % width
    if isinstance(target, str):
        if target not in names:
            raise DataContentError(
                layout.path,
                f"target column {target!r} not found; the columns are {names}"
                + (
                    ""
                    if layout.header
                    else " (the file has no header row; give target as an index)"
                ),
            )
        return names.index(target)
    raise TypeError(f"target: expected a column name or index, received {type(target).__name__}")


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _parse_targets(path, values: list, lines, task, target_name: str, notes: list):
    """The target column as int64 labels, float64 values or strings, and the task it implies.

    Integer text is classification; other numbers regression, except numbers that are all
    integers (``0.0``, ``1.0``), which are classification with a note unless ``task`` says
    otherwise; any other text is classification (class names).
    """
    if values and all(_is_integer(v) for v in values):
        try:
            y = xp.asarray([int(v) for v in values], dtype=xp.int64)
            return y, task or "classification"
        except OverflowError:  # beyond int64: class names as written, or numbers below
            if task != "regression":
                return xp.asarray(values), "classification"
    if all(_is_number(v) for v in values):
        y = xp.asarray([float(v) for v in values], dtype=xp.float64)
        check_finite_records(path, y, f"target column {target_name!r}", lines)
        if task is None and bool(xp.all(y == xp.round(y))):
            notes.append(
                f"{path.name}: the target column {target_name!r} holds whole numbers "
                f"only ({len(xp.unique(y))} values); training a classifier (give task "
                "'regression', CLI --task regression, to fit the values instead)"
            )
            return y, "classification"
        return y, task or "regression"
    if task == "regression":
        bad = next(r for r, v in enumerate(values) if not _is_number(v))
        raise DataFormatError(
            path,
            f"non-numeric value {values[bad][:40]!r} in target column {target_name!r} on "
            f"line {int(lines[bad])}; regression targets must be numbers",
            line=int(lines[bad]),
        )
    return xp.asarray(values), "classification"


def _read_csv_file(path, target, header, delimiter, max_bytes):
    layout = csv_layout(path, header=header, delimiter=delimiter, max_bytes=max_bytes)
    if len(layout.names) < 2:
        raise DataContentError(
            layout.path,
            f"expected at least 2 columns (features and a target), received {len(layout.names)}",
        )
    target_col = _target_column(layout, target)
    feature_cols = [k for k in range(len(layout.names)) if k != target_col]
    X, targets, lines = read_csv_columns(layout, feature_cols, target_col)
    check_finite_records(layout.path, X, "", lines, [layout.names[k] for k in feature_cols])
    return layout, target_col, feature_cols, X, targets, lines


def load_csv(
    path,
    *,
    target=None,
    header=None,
    delimiter=None,
    task=None,
    seed=0,
    test_size=0.2,
    standardize=False,
    test_path=None,
    max_bytes: int = DEFAULT_MAX_BYTES,
):
    """Load a CSV file of numeric features and one target column.

    Parameters
    ----------
    path : str or Path
    target : str or int, optional
        The target column, by name (needs a header) or position (negative
        counts from the end; a string of digits that is not a column name is a
        position). Default: the first of the columns named target, label,
        labels, y or class (any case, in that order of preference) if there is
        a header, else the last column.
    header : bool, optional
        Whether the first row holds column names; detected when None (it does
        when some column is non-numeric in the first row but numeric in the second).
    delimiter : str, optional
        Detected from the first line (``,``, ``;`` or tab) when None.
    task : {'classification', 'regression'}, optional
        Inferred when None: integer or text targets mean classification, and so
        do numbers that are all whole (``0.0``, ``1.0``; with a note in
        ``bundle.notes``); other numbers regression.
    seed, test_size :
        The seeded (stratified, for classification) train/test split.
    standardize : bool
        Standardise features with the training statistics.
    test_path : str or Path, optional
        A second CSV file with the same columns to use as the test split (then
        the whole of ``path`` is the training split).
    max_bytes : int
        The largest file accepted (default :data:`DEFAULT_MAX_BYTES`).

    Raises
    ------
    DataFormatError
        A malformed line, a non-numeric feature (naming the column and the
        line), rows of different lengths.
    NonFiniteValueError
        A NaN or inf value, naming its line.
    DataContentError
        An unknown target column, fewer than two classes, an empty split.
    DataTooLargeError
        A file over ``max_bytes``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> rows = ["x1,x2,label"] + [f"{i},{i % 3},{'ab'[i % 2]}" for i in range(20)]
    >>> _ = open(path, "w").write("\\n".join(rows))
    >>> bundle = load_csv(path)
    >>> bundle.class_names, bundle.feature_names
    (['a', 'b'], ['x1', 'x2'])
    """
    layout, target_col, feature_cols, X, targets, lines = _read_csv_file(
        path, target, header, delimiter, max_bytes
    )
    target_name = layout.names[target_col]
    X_test = y_test = None
    test_lines = None
    if test_path is not None:
        test = _read_csv_file(
            test_path,
            target_name if layout.header else target_col,
            layout.header,
            layout.delimiter,
            max_bytes,
        )
        test_layout, _, test_features, X_test, test_targets, test_lines = test
        if [test_layout.names[k] for k in test_features] != [layout.names[k] for k in feature_cols]:
            raise DataContentError(
                test_layout.path,
                f"the test file's feature columns "
                f"{[test_layout.names[k] for k in test_features]} differ from "
                f"the training file's {[layout.names[k] for k in feature_cols]}",
            )
        targets = targets + test_targets
    notes: list = []
    all_lines = lines if test_lines is None else xp.concatenate([lines, test_lines])
    y, task = _parse_targets(layout.path, targets, all_lines, task, target_name, notes)
    if test_path is not None:
        y, y_test = y[: len(X)], y[len(X) :]
    return _from_arrays(
        layout.path,
        X,
        y,
        X_test,
        y_test,
        task=task,
        seed=seed,
        test_size=test_size,
        standardize=standardize,
        notes=notes,
        feature_names=[layout.names[k] for k in feature_cols] if layout.header else None,
        target_name=target_name if layout.header else None,
        description=f"CSV file {layout.path.name} (target column {target_name!r})",
    )


# ----------------------------------------------------------------------- npz
def _npy_header(handle):
    """(shape, dtype, data bytes) that a ``.npy`` stream's header declares; nothing else read."""
    npy_format = host.lib.format

    if npy_format.read_magic(handle) == (1, 0):
        shape, _, dtype = npy_format.read_array_header_1_0(handle)
    else:
        shape, _, dtype = npy_format.read_array_header_2_0(handle)
    return shape, dtype, math.prod(shape) * dtype.itemsize


def _read_npy_member(path, archive, info, max_bytes):
    """One ``.npy`` member of a zip archive, after checking its declared size."""
    npy_format = host.lib.format

    name = info.filename[:-4]
    if info.file_size > max_bytes:
        raise too_large(path, f"array {name!r}", info.file_size, max_bytes)
    try:
        with archive.open(info) as member:
            shape, dtype, declared = _npy_header(member)
            if declared > info.file_size:
                raise DataFormatError(
                    path,
                    f"array {name!r} declares shape {shape} of {dtype} "
                    f"({declared:,} bytes), but holds "
                    f"{info.file_size:,} bytes",
                )
        with archive.open(info) as member:
            return xp.asarray(npy_format.read_array(member, allow_pickle=False))
    except ValueError as error:
        if isinstance(error, DataFileError):
            raise
        raise DataFormatError(
            path,
            f"array {name!r} cannot be read without pickle ({error}); "
            "store plain numeric or string arrays",
        ) from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as error:
        raise DataFormatError(path, f"array {name!r} is truncated or corrupt ({error})") from None


def read_npz(path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """The arrays of a ``.npz`` file by name, read without pickle and without trusting sizes.

    Each array's header is read first; an array whose declared size exceeds its
    stored bytes, or whose stored size exceeds ``max_bytes``, is refused before
    anything is allocated.

    Raises
    ------
    DataFormatError
        Not a zip archive, a truncated or corrupt member, an object array.
    DataTooLargeError
        An array over ``max_bytes``.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"load_npz: no such file: {str(path)!r}")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if i.filename.endswith(".npy")]
            return {i.filename[:-4]: _read_npy_member(path, archive, i, max_bytes) for i in infos}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise DataFormatError(path, f"not a valid .npz (zip) archive ({error})") from None


def read_npy(path, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """One ``.npy`` array, read without pickle, after checking the size its header declares
    against the file's size and ``max_bytes``.

    Raises
    ------
    DataFormatError, DataTooLargeError, DatasetNotFoundError
    """
    npy_format = host.lib.format

    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"read_npy: no such file: {str(path)!r}")
    size = path.stat().st_size
    if size > max_bytes:
        raise too_large(path, "the .npy file", size, max_bytes)
    try:
        with path.open("rb") as handle:
            shape, dtype, declared = _npy_header(handle)
            if declared > size - handle.tell():
                raise DataFormatError(
                    path,
                    f"the header declares shape {shape} of {dtype} "
                    f"({declared:,} bytes), but the file holds "
                    f"{size - handle.tell():,}",
                )
            handle.seek(0)
            return npy_format.read_array(handle, allow_pickle=False)
    except ValueError as error:
        if isinstance(error, DataFileError):
            raise
        raise DataFormatError(path, f"not a .npy array readable without pickle ({error})") from None
    except (EOFError, OSError) as error:
        raise DataFormatError(path, f"truncated or corrupt .npy file ({error})") from None


def load_npz(
    path,
    *,
    task=None,
    seed=0,
    test_size=0.2,
    standardize=False,
    test_path=None,
    max_bytes: int = DEFAULT_MAX_BYTES,
):
    """Load a ``.npz`` holding ``X`` and ``y`` (optionally ``X_test`` and ``y_test``).

    Optional string arrays ``feature_names`` and ``class_names`` are used when
    present. Without ``X_test``/``y_test`` (or ``test_path``, a second .npz
    whose ``X`` and ``y`` are the test split) a seeded train/test split is made.
    Read by :func:`read_npz`: no pickle, and no allocation beyond ``max_bytes``.
    Float labels that are all whole numbers are classification (with a note)
    unless ``task`` says otherwise.

    Raises
    ------
    DataFormatError, DataTooLargeError, NonFiniteValueError (naming the array and the
    record), DataContentError (missing arrays, lengths that differ, one class).
    """
    path = Path(path)
    arrays = read_npz(path, max_bytes=max_bytes)
    for key in ("X", "y"):
        if key not in arrays:
            raise DataContentError(
                path, f"the .npz must hold arrays 'X' and 'y'; it holds {sorted(arrays)}"
            )
    if ("X_test" in arrays) != ("y_test" in arrays):
        raise DataContentError(
            path, f"give both 'X_test' and 'y_test' or neither; it holds {sorted(arrays)}"
        )
    X_test, y_test, test_source = arrays.get("X_test"), arrays.get("y_test"), path
    if test_path is not None:
        if X_test is not None:
            raise DataContentError(
                path, "the .npz holds X_test and y_test; give no separate test file"
            )
        test_arrays = read_npz(test_path, max_bytes=max_bytes)
        if "X" not in test_arrays or "y" not in test_arrays:
            raise DataContentError(
                test_path,
                f"the test .npz must hold arrays 'X' and 'y'; it holds {sorted(test_arrays)}",
            )
        X_test, y_test, test_source = test_arrays["X"], test_arrays["y"], Path(test_path)
    for source, key, value in (
        (path, "X", arrays["X"]),
        (path, "y", arrays["y"]),
        (test_source, "X_test" if test_path is None else "X", X_test),
        (test_source, "y_test" if test_path is None else "y", y_test),
    ):
        if value is not None and value.dtype.kind in "fc":
            check_finite_records(source, value, f"array {key!r}")
    notes: list = []
    y = arrays["y"]
    if task is None and y.dtype.kind == "f" and y.size and bool(xp.all(y == xp.round(y))):
        notes.append(
            f"{path.name}: 'y' holds whole numbers only; training a classifier (give "
            "task 'regression', CLI --task regression, to fit the values instead)"
        )
        task = "classification"
    feature_names = arrays.get("feature_names")
    class_names = arrays.get("class_names")
    return _from_arrays(
        path,
        arrays["X"],
        y,
        X_test,
        y_test,
        task=task,
        seed=seed,
        test_size=test_size,
        standardize=standardize,
        notes=notes,
        feature_names=None if feature_names is None else [str(f) for f in feature_names],
        class_names=None if class_names is None else [str(c) for c in class_names],
        description=f"NumPy archive {path.name}",
    )


def _from_arrays(
    path,
    X,
    y,
    X_test,
    y_test,
    *,
    task,
    seed,
    test_size,
    standardize,
    feature_names=None,
    class_names=None,
    description="",
    notes=(),
    target_name=None,
):
    """Shared tail of the CSV and npz loaders: task, label mapping, split, validation."""
    X, y = xp.asarray(X), xp.asarray(y)
    if X.dtype.kind not in "biuf":
        raise DataContentError(path, f"X must be numeric, received dtype {X.dtype}")
    if X.ndim == 1:
        X = X[:, None]
    if y.ndim == 0 or len(X) != len(y):
        raise DataContentError(
            path,
            f"X and y must have the same number of samples, received "
            f"X shape {X.shape} and y shape {y.shape}",
        )
    if len(X) == 0:
        raise DataContentError(path, "the file holds no samples")
    if X_test is not None:
        X_test, y_test = xp.asarray(X_test), xp.asarray(y_test)
        if X_test.dtype.kind not in "biuf":
            raise DataContentError(path, f"X_test must be numeric, received dtype {X_test.dtype}")
        if X_test.ndim == 1:
            X_test = X_test[:, None]
        if y_test.ndim == 0 or len(X_test) != len(y_test) or len(X_test) == 0:
            raise DataContentError(
                path,
                f"X_test and y_test must hold the same (nonzero) number of samples, "
                f"received X_test shape {X_test.shape} and y_test shape {y_test.shape}",
            )
        if X_test.shape[1:] != X.shape[1:]:
            raise DataContentError(
                path, f"test samples have shape {X_test.shape[1:]}, training samples {X.shape[1:]}"
            )
    task = task or infer_task(y)
    num_classes = None
    if task == "classification":
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise DataContentError(
                path, f"classification labels must be 1-D, received shape {y.shape}"
            )
        if y_test is not None:
            y_test = y_test.reshape(-1)
            if (y.dtype.kind in "US") != (y_test.dtype.kind in "US"):
                y, y_test = y.astype(str), y_test.astype(str)
            y, y_test, mapped_names, num_classes = encode_labels(y, y_test)
        else:
            y, mapped_names, num_classes = encode_labels(y)
        if mapped_names is not None and class_names is None:
            class_names = mapped_names
        if class_names is not None and len(class_names) != num_classes:
            class_names = None
        present = len(xp.unique(y))
        if present < 2:
            only = class_names[int(y[0])] if class_names else str(int(y[0]))
            raise DataContentError(
                path,
                f"classification needs at least 2 classes, but every training label is "
                f"{only!r}; check the target column (CLI --target) or use --task regression",
            )
    elif y.dtype.kind not in "biuf" or (y_test is not None and y_test.dtype.kind not in "biuf"):
        raise DataContentError(
            path, f"regression targets must be numeric, received dtype {y.dtype}"
        )
    if X_test is None:
        if len(X) < 2:
            raise DataContentError(
                path,
                f"{len(X)} sample cannot be split into training and "
                "test sets; give more samples or a test file",
            )
        train, test = train_test_indices(
            len(X), test_size, seed, labels=y if task == "classification" else None
        )
        if len(test) == 0 or len(train) == 0:
            raise DataContentError(
                path,
                f"the {'test' if len(test) == 0 else 'training'} split is empty "
                f"({len(X)} samples, test_size={test_size}; every class keeps one training "
                "sample); give more samples, a larger test_size or a test file "
                "(CLI --test-data)",
            )
        X, y, X_test, y_test = X[train], y[train], X[test], y[test]
    bundle = finalize(
        path.stem,
        X,
        y,
        X_test,
        y_test,
        task=task,
        num_classes=num_classes,
        image_shape=X.shape[1:] if X.ndim >= 3 else None,
        feature_names=feature_names,
        class_names=class_names,
        description=description,
        source=str(path.resolve()),
        standardize=standardize,
    )
    bundle.notes = list(notes)
    bundle.target_name = target_name
    return bundle
