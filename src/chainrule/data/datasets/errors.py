"""The errors the dataset loaders raise: one type per kind of problem, each naming the file
and, where there is one, the line (text files) or record (binary files) at fault.

=========================  ==================================================================
error                      raised when
=========================  ==================================================================
DatasetNotFoundError       the file, folder or a named set's files do not exist
DataFormatError            the bytes are not a valid file of the format: truncated, bad CRC,
                           bad header, ragged CSV rows, overlong fields, non-numeric features
DataTooLargeError          the file (or its decompressed or declared size) is over the limit
                           (:data:`DEFAULT_MAX_BYTES`; raise it with ``max_bytes=``, or
                           ``--max-data-mb`` on the command line)
NonFiniteValueError        a NaN or infinite feature or target
DataContentError           a well-formed file that cannot be trained on: fewer than two
                           classes, an empty split, lengths that differ, an unknown column
=========================  ==================================================================

All but :class:`DatasetNotFoundError` (a ``FileNotFoundError``) are ``ValueError``
subclasses of :class:`DataFileError`, whose ``path``, ``line`` and ``record``
attributes say where the problem is.

Examples
--------
>>> error = DataFormatError("bad.csv", "line 3 has 2 fields, expected 4", line=3)
>>> str(error), error.line
('bad.csv: line 3 has 2 fields, expected 4', 3)
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DataContentError",
    "DataFileError",
    "DataFormatError",
    "DataTooLargeError",
    "DatasetNotFoundError",
    "NonFiniteValueError",
]

DEFAULT_MAX_BYTES = 256 << 20
"""The most bytes a loader reads from one file, after decompression, and the most a file's
header may declare: 256 MiB, over five times Fashion-MNIST's largest file (47 MB), while a
file read at the limit still fits in memory as float32 features (1 GiB)."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not where they were looked for; the message says how to get them."""


class DataFileError(ValueError):
    """A problem with a data file's contents.

    Parameters
    ----------
    path : str or Path
        The file (its name starts the message).
    message : str
        What is wrong, and what was expected.
    line : int, optional
        The 1-based line of a text file.
    record : int, optional
        The 0-based record (sample) of a binary file, or of an array in it.
    """

    def __init__(self, path, message: str, *, line: int | None = None, record: int | None = None):
        self.path = str(path)
        self.line = line
        self.record = record
        super().__init__(f"{self.path}: {message}")


class DataFormatError(DataFileError):
    """The file is not a valid file of its format (truncated, corrupt, malformed)."""


class DataTooLargeError(DataFileError):
    """The file, its decompressed size or its declared size is over the loader's limit."""


class NonFiniteValueError(DataFileError):
    """A feature or target is NaN or infinite."""


class DataContentError(DataFileError):
    """A valid file that cannot be trained on (one class, an empty split, mismatched lengths)."""


def too_large(path, what: str, size: int, limit: int) -> DataTooLargeError:
    """The :class:`DataTooLargeError` for ``what`` of ``size`` bytes over ``limit``."""
    return DataTooLargeError(
        path,
        f"{what} is {size:,} bytes, over the limit of {limit:,} bytes; raise it with "
        f"max_bytes= (CLI: --max-data-mb {-(-size // 2**20)}) if the file is trusted",
    )
