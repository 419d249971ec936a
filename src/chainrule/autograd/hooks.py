"""Removable hook handles, shared by tensor hooks and module hooks.

A hook is registered into an ordered ``dict`` owned by whatever fires it (a tensor,
a module); :class:`RemovableHandle` is the receipt: ``handle.remove()`` deletes that
one entry, so the hook never fires again. As ``torch.utils.hooks.RemovableHandle``.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable

__all__ = ["HooksDict", "RemovableHandle"]

_next_id = itertools.count()


class RemovableHandle:
    """The handle returned by a ``register_*_hook`` call; ``remove()`` unregisters the hook.

    Parameters
    ----------
    hooks_dict : HooksDict or dict
        The owner's ordered ``{id: hook}`` table. The handle references a
        :class:`HooksDict` weakly, so a handle does not keep its owner alive.

    Examples
    --------
    >>> hooks = HooksDict()
    >>> handle = RemovableHandle(hooks)
    >>> hooks[handle.id] = print
    >>> handle.remove()
    >>> hooks
    {}

    Also a context manager: ``with tensor.register_hook(fn): ...`` removes on exit.
    """

    def __init__(self, hooks_dict: dict):
        self.id = next(_next_id)
        self._hooks_ref: Callable[[], dict | None]
        try:
            self._hooks_ref = weakref.ref(hooks_dict)  # a HooksDict
        except TypeError:  # a plain dict cannot be weakly referenced: keep it
            self._hooks_ref = lambda: hooks_dict

    def remove(self) -> None:
        """Unregister the hook (idempotent)."""
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class HooksDict(dict):
    """An ordered ``{id: hook}`` table that :class:`RemovableHandle` can reference weakly."""

    __slots__ = ("__weakref__",)
