"""Atomic writes: a file, or a whole folder, is replaced in one rename or not at all.

A file is written to a temporary file beside it, flushed and fsynced, then
moved over the old one with :func:`os.replace`. A folder (a model's
``model.safetensors`` with its ``config.json``, an estimator's files) is
staged as a hidden folder beside the target, fsynced, and swapped with the
old folder in one ``renameat2(RENAME_EXCHANGE)`` on Linux, so at every
instant the target holds either the previous version or the new one,
complete. Where the exchange is unavailable (other systems, some file
systems) the old folder is renamed aside and the new one renamed in: two
renames, with a moment in between when the target is missing.

A save killed midway leaves its hidden temporary file or staging folder
behind; the next save to the same place removes them. A save that fails
(disk full, permission denied) leaves the previous version intact, removes
what it staged, and raises an :class:`OSError` whose message names the target.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile

__all__ = ["atomic_write_bytes", "remove_stale_temporaries", "write_folder"]

_TEMP_TAG = ".chainrule-"
"""Temporaries are named ``.<target name>.chainrule-<kind>-<random>``; only these are removed."""


def _temporary_prefix(name: str, kind: str) -> str:
    return f".{name}{_TEMP_TAG}{kind}-"


def _write_file(handle, data: bytes) -> None:
    """Write ``data`` to an open file (its own step, so tests can make a write fail midway)."""
    view = memoryview(data)
    chunk = 1 << 20
    for start in range(0, len(view), chunk):
        handle.write(view[start : start + chunk])


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(path) -> list[str]:
    """Remove what interrupted saves to ``path`` left beside it; return the names removed.

    Only hidden names of the form ``.<name>.chainrule-<kind>-<random>`` (this
    module's temporary files and staging folders for ``path``) are touched.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    pattern = re.compile(re.escape(f".{name}{_TEMP_TAG}") + r"(tmp|staging|old)-[A-Za-z0-9_]+")
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for entry in entries:
        if pattern.fullmatch(entry):
            stale = os.path.join(directory, entry)
            if os.path.isdir(stale) and not os.path.islink(stale):
                shutil.rmtree(stale, ignore_errors=True)
            else:
                try:
                    os.unlink(stale)
                except OSError:
                    continue
            removed.append(entry)
    return removed


def _named_error(error: OSError, target: str) -> OSError:
    """The same kind of error, saying which save failed."""
    failure = type(error)(f"save: could not write {target}: {error}")
    failure.errno = error.errno
    return failure


def _write_durably(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:
        _write_file(handle, data)
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temporary file beside it, fsync, :func:`os.replace`.

    Temporary files that an interrupted save to ``path`` left behind are
    removed first. If anything fails, the temporary file is removed, whatever
    was at ``path`` is left untouched, and the :class:`OSError` names ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> atomic_write_bytes(target, b"hello")
    >>> open(target, "rb").read()
    b'hello'
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path}: the folder {directory} does not exist")
    remove_stale_temporaries(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=_temporary_prefix(name, "tmp"), dir=directory)
    except OSError as error:
        raise _named_error(error, path) from error
    os.close(fd)
    try:
        _write_durably(temporary, data)
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise _named_error(error, path) from error
        raise
    _fsync_directory(directory)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: str, second: str) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``); False where that is unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    if (
        renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
        == 0
    ):
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), second)


def write_folder(
    path, files: dict[str, bytes], *, replaceable: frozenset[str] = frozenset()
) -> str:
    """Replace the folder ``path`` by one holding exactly ``files`` (name → bytes), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The folder. Its parent is created when missing.
    files : dict[str, bytes]
        The folder's new content (plain file names, no subfolders).
    replaceable : frozenset[str]
        Other names an existing folder may hold: they belong to an earlier
        save of the same kind and go with the old version. A folder holding
        anything else is refused (nothing of the user's is ever deleted).

    Returns
    -------
    The path written.

    Raises
    ------
    ValueError
        ``path`` exists and is not a folder, or holds files this save does not own.
    OSError
        The save failed; its message names ``path``, and the previous folder is intact.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "bundle")
    >>> _ = write_folder(target, {"a.txt": b"1", "b.txt": b"2"})
    >>> sorted(os.listdir(target))
    ['a.txt', 'b.txt']
    """
    path = os.fspath(path)
    target = os.path.abspath(path)
    parent, name = os.path.split(target)
    if os.path.exists(target) and not os.path.isdir(target):
        raise ValueError(
            f"save: {path!r} exists and is not a folder; give a folder or a .safetensors file name"
        )
    if os.path.isdir(target):
        foreign = sorted(set(os.listdir(target)) - set(files) - set(replaceable))
        if foreign:
            raise ValueError(
                f"save: the folder {path} holds files this save does not own "
                f"({', '.join(foreign[:5])}); "
                "a model folder is replaced as a whole, so save to a new or empty folder"
            )
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        raise _named_error(error, path) from error
    remove_stale_temporaries(target)
    try:
        staging = tempfile.mkdtemp(prefix=_temporary_prefix(name, "staging"), dir=parent)
    except OSError as error:
        raise _named_error(error, path) from error
    swapped = False
    try:
        for file_name, data in files.items():
            _write_durably(os.path.join(staging, file_name), data)
            os.chmod(os.path.join(staging, file_name), 0o666 & ~_current_umask())
        os.chmod(staging, 0o777 & ~_current_umask())
        _fsync_directory(staging)
        if not os.path.isdir(target):
            os.rename(staging, target)
        elif _exchange(staging, target):
            swapped = True  # ``staging`` now holds the previous version
        else:
            aside = tempfile.mkdtemp(prefix=_temporary_prefix(name, "old"), dir=parent)
            os.rmdir(aside)
            os.rename(target, aside)
            os.rename(staging, target)
            staging, swapped = aside, True
        _fsync_directory(parent)
    except BaseException as error:
        if not swapped:
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(error, OSError):
            raise _named_error(error, path) from error
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return path
