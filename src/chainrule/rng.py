"""The library's default random generator.

chainrule never touches NumPy's global random state. Every function that needs
randomness takes an optional ``generator`` (a :class:`numpy.random.Generator`);
when it is ``None`` the library-wide default below is used, which
:func:`manual_seed` re-seeds.
"""

from __future__ import annotations

from .backend import host as np

_default_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the library's default generator and return it.

    Examples
    --------
    >>> import chainrule
    >>> g = chainrule.manual_seed(0)
    """
    global _default_generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected seed to be an int, received {type(seed).__name__}")
    _default_generator = np.random.default_rng(int(seed))
    return _default_generator


def default_generator() -> np.random.Generator:
    """Return the library's default generator (seeded by :func:`manual_seed`)."""
    return _default_generator


def get_generator(generator: np.random.Generator | int | None = None) -> np.random.Generator:
    """Resolve a ``generator`` argument: a Generator, an int seed, or None for the default."""
    if generator is None:
        return _default_generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(
        "generator: expected a numpy.random.Generator, an int seed or None, "
        f"received {type(generator).__name__}"
    )
