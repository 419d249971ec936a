"""A griffe extension for the API reference: Sphinx roles in docstrings become Markdown code.

The docstrings are numpydoc and name other objects with Sphinx roles (``:class:`Tensor```,
``:func:`~chainrule.io.save```). mkdocstrings renders Markdown, where such a role would show
as raw text; this turns each into inline code (the last dotted part for a ``~`` target, as
Sphinx does). Used from mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`(~?)([^`]+)`")


def _as_code(match: re.Match) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def strip_roles(text: str) -> str:
    """``:class:`~a.B``` → ```B```; ``:func:`f``` → ```f```.

    Examples
    --------
    >>> strip_roles("see :func:`~chainrule.io.save` and :class:`Tensor`")
    'see `save` and `Tensor`'
    """
    return ROLE.sub(_as_code, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = strip_roles(obj.docstring.value)
