"""``draw_graph``: the graph that autograd recorded, as Graphviz DOT text (and SVG/PNG).

Each recorded op is a box named after its :class:`~chainrule.autograd.Function` (``Linear``,
``ReLU``, ``CrossEntropy``...); each tensor is an ellipse with its shape, leaves that require
grad are filled (with their parameter names when ``params`` is given); an edge runs from each
input to the op that used it, and from the op to its output, in the direction of the forward
pass. Backward walks the same edges the other way.

Examples
--------
>>> import numpy as np
>>> import chainrule.functional as F
>>> from chainrule import nn
>>> from chainrule.diagnostics import draw_graph
>>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
>>> loss = F.cross_entropy(model(np.ones((5, 3), dtype=np.float32)), np.array([0, 1, 0, 1, 0]))
>>> dot = draw_graph(loss, params=dict(model.named_parameters()))
>>> print(dot.splitlines()[0])
digraph chainrule {
>>> "0.weight (4×3)" in dot and "ReLU" in dot
True
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ..tensor import Tensor

__all__ = ["draw_graph", "graph_nodes"]


def _shape(tensor) -> str:
    return "×".join(str(n) for n in tensor.shape) if tensor.shape else "scalar"


def graph_nodes(root: Tensor):
    """(tensors, ops, edges) reachable from ``root``: the recorded graph as plain lists.

    ``tensors`` and ``ops`` are lists in discovery order (output first); ``edges`` are
    (source id, destination id) pairs of the forward direction.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, received {type(root).__name__}")
    tensors, ops, edges = [], [], []
    seen_tensors, seen_ops = set(), set()
    stack = [root]
    while stack:  # iterative: a long graph never hits the recursion limit
        tensor = stack.pop()
        if id(tensor) in seen_tensors:
            continue
        seen_tensors.add(id(tensor))
        tensors.append(tensor)
        ctx = tensor._ctx
        if ctx is None:
            continue
        edges.append((id(ctx), id(tensor)))
        if id(ctx) in seen_ops:
            continue
        seen_ops.add(id(ctx))
        ops.append(ctx)
        for parent in ctx.inputs:
            if parent is not None:
                edges.append((id(parent), id(ctx)))
                stack.append(parent)
    return tensors, ops, edges


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def draw_graph(
    root: Tensor,
    path: str | os.PathLike | None = None,
    *,
    params: dict | None = None,
    rankdir: str = "TB",
) -> str:
    """Describe the graph recorded up to ``root`` in DOT; optionally write it to ``path``.

    Parameters
    ----------
    root : Tensor
        Usually the loss, before ``backward()`` (afterwards the saved arrays are released but
        the graph's edges remain, so it can still be drawn).
    path : str, optional
        ``*.dot`` (or ``*.gv``) writes the text; ``*.svg``, ``*.png`` or ``*.pdf`` render it with
        Graphviz's ``dot`` program, which must be installed (``apt install graphviz``).
    params : dict, optional
        ``{name: Parameter}``, e.g. ``dict(model.named_parameters())``, to label the leaves.
    rankdir : {'TB', 'LR'}
        Top-to-bottom or left-to-right layout.

    Returns
    -------
    str
        The DOT text.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"draw_graph: rankdir must be 'TB' or 'LR', received {rankdir!r}")
    names = {id(p): name for name, p in (params or {}).items()}
    tensors, ops, edges = graph_nodes(root)
    lines = [
        "digraph chainrule {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=11];',
    ]
    for tensor in tensors:
        label = _shape(tensor)
        if id(tensor) in names:
            label = f"{names[id(tensor)]} ({label})"
        style = ""
        if tensor._ctx is None and tensor.requires_grad:
            style = ', style=filled, fillcolor="#cfe2ff"'
        elif tensor is root:
            style = ', style=filled, fillcolor="#ffe08a"'
        lines.append(f"  t{id(tensor)} [shape=ellipse, label={_quote(label)}{style}];")
    for op in ops:
        lines.append(f"  f{id(op)} [shape=box, label={_quote(type(op).__name__)}];")
    op_ids = {id(op) for op in ops}
    for source, destination in edges:
        a = f"f{source}" if source in op_ids else f"t{source}"
        b = f"f{destination}" if destination in op_ids else f"t{destination}"
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    dot = "\n".join(lines) + "\n"
    if path is not None:
        _write(dot, os.fspath(path))
    return dot


def _write(dot: str, path: str) -> None:
    from ..io import atomic_write_bytes

    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension in ("dot", "gv", ""):
        atomic_write_bytes(path, dot.encode())
        return
    if extension not in ("svg", "png", "pdf"):
        raise ValueError(
            f"draw_graph: path must end in .dot, .gv, .svg, .png or .pdf, received {path!r}"
        )
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            f"draw_graph: writing {path} needs Graphviz's 'dot' program "
            "(apt install graphviz); write a .dot file instead"
        )
    result = subprocess.run(
        [program, f"-T{extension}"],
        input=dot.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"draw_graph: dot failed on {path}: {result.stderr.decode(errors='replace').strip()}"
        )
    atomic_write_bytes(path, result.stdout)
