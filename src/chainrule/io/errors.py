"""The loaders' one error type and the limits they enforce.

Every way a model file, checkpoint or estimator folder can be wrong raises
:class:`ModelFileError`, whose message starts with the file and says what is
wrong. The limits below bound the work any file can ask of a loader; a file
beyond them is refused before anything is built.
"""

from __future__ import annotations

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_MODULES",
    "MAX_NESTING",
    "ModelFileError",
]

MAX_JSON_BYTES = 16 * 1024 * 1024
"""The largest JSON document (architecture, checkpoint state, estimator fields) a loader parses."""

MAX_JSON_DEPTH = 100
"""The deepest nesting of JSON arrays and objects a loader accepts."""

MAX_MODULES = 10_000
"""The most modules (layers and containers, over the whole tree) an architecture may hold."""

MAX_NESTING = 32
"""The deepest nesting of modules (a Sequential in a Sequential in ...) an architecture may hold."""


class ModelFileError(ValueError):
    """A model file, checkpoint or estimator folder is unreadable, corrupt, or inconsistent.

    The message names the file and what is wrong with it. It is a
    :class:`ValueError`, so ``except ValueError`` also catches it.

    Examples
    --------
    >>> import chainrule
    >>> from chainrule.io import ModelFileError
    >>> try:
    ...     chainrule.io.parse_json("{", "architecture JSON", "m/config.json")
    ... except ModelFileError as error:
    ...     print(str(error)[:45])
    m/config.json: the architecture JSON is not v
    """
