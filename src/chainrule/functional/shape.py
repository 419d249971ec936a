"""Shape primitives: reshape, transpose, indexing, cat, stack, and friends."""

from __future__ import annotations

from ..autograd import Function
from ..backend import scatter_add, xp
from ..tensor import Tensor
from ._util import as_tensor, resolve_dim

__all__ = [
    "cat",
    "chunk",
    "clone",
    "expand",
    "flatten",
    "gather",
    "getitem",
    "index_select",
    "pad",
    "permute",
    "repeat",
    "reshape",
    "setitem",
    "split",
    "squeeze",
    "stack",
    "t",
    "transpose",
    "unsqueeze",
]


class Reshape(Function):
    """y = x viewed with a new shape;  ∂L/∂x = g reshaped back."""

    output_may_be_view = True

    def forward(self, x, shape=None):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} into {tuple(shape)}"
            ) from None

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """y = x with axes permuted;  ∂L/∂x = g with the inverse permutation."""

    output_may_be_view = True

    def forward(self, x, axes=None):
        self.axes = axes
        return xp.transpose(x, axes)

    def backward(self, g):
        if self.axes is None:
            return (xp.transpose(g),)
        return (xp.transpose(g, xp.argsort(self.axes)),)


class GetItem(Function):
    """y = x[index];  ∂L/∂x = zeros with g scatter-added at ``index``.

    Integer-array (advanced) indices may repeat an element; their gradients
    add up (``np.add.at``). Basic slices are written directly.
    """

    output_may_be_view = True

    def forward(self, x, index=None):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            scatter_add(grad, self.index, g)
        else:
            grad[self.index] = g
        return (grad,)


class SetItem(Function):
    """y = x with y[index] = v (out of place);  ∂L/∂x = g with zeros at ``index``,
    ∂L/∂v = g[index] (the engine sums it back to v's shape)."""

    def forward(self, x, value, index=None):
        self.index = index
        y = x.copy()
        y[index] = value
        return y

    def backward(self, g):
        gx = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.index] = 0
        gv = g[self.index] if self.needs_input_grad[1] else None
        return gx, gv


class Expand(Function):
    """y = x broadcast to ``shape`` (a read-only view);  ∂L/∂x = g summed over the broadcast
    axes, which the engine does when a gradient is larger than its input."""

    output_may_be_view = True

    def forward(self, x, shape=None):
        return xp.broadcast_to(x, shape)

    def backward(self, g):
        return (g,)


class Repeat(Function):
    """y = x tiled ``repeats`` times along each axis (PyTorch's ``repeat``, NumPy's ``tile``);
    ∂L/∂x = Σ of g over the copies: g viewed as (r₀, n₀, r₁, n₁, …) summed over the rᵢ."""

    def forward(self, x, repeats=None):
        self.shape = x.shape
        self.padded = (1,) * (len(repeats) - x.ndim) + x.shape  # leading axes of size 1
        self.repeats = repeats
        return xp.tile(x, repeats)

    def backward(self, g):
        pairs = tuple(k for pair in zip(self.repeats, self.padded, strict=True) for k in pair)
        summed = g.reshape(pairs).sum(axis=tuple(range(0, len(pairs), 2)))
        return (summed.reshape(self.shape),)


class Gather(Function):
    """y[i₀…, j, …] = x[i₀…, index[i₀…, j, …], …] along ``dim`` (PyTorch's ``gather``);
    ∂L/∂x = zeros with g scatter-added at the gathered positions (repeats add up)."""

    def forward(self, x, index=None, dim=0):
        self.shape = x.shape
        grid = list(xp.indices(index.shape, sparse=True))
        grid[dim] = index
        self.where = tuple(grid)
        return x[self.where]

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        scatter_add(grad, self.where, g)
        return (grad,)


class IndexSelect(Function):
    """y = the slices of x at ``index`` along ``dim``;  ∂L/∂x = zeros with g added back at
    ``index`` (a repeated index gets the sum)."""

    def forward(self, x, index=None, dim=0):
        self.shape, self.where = x.shape, (slice(None),) * dim + (index,)
        return xp.take(x, index, axis=dim)

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        scatter_add(grad, self.where, g)
        return (grad,)


class Cat(Function):
    """y = [x₁, x₂, …] joined along ``axis``;  ∂L/∂xᵢ = the matching slice of g."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.splits = xp.cumsum([x.shape[axis] for x in xs])[:-1]
        return xp.concatenate(xs, axis=axis)

    def backward(self, g):
        return tuple(xp.split(g, self.splits, axis=self.axis))


class Stack(Function):
    """y = [x₁, x₂, …] stacked on a new ``axis``;  ∂L/∂xᵢ = g taken at i on that axis."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        return xp.stack(xs, axis=axis)

    def backward(self, g):
        return tuple(xp.moveaxis(g, self.axis, 0))


class Clone(Function):
    """y = a copy of x;  ∂L/∂x = g."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return (g,)


class Pad(Function):
    """y = x zero-padded by ``pad_width`` (NumPy's format);  ∂L/∂x = the centre of g."""

    def forward(self, x, pad_width=None, value=0.0):
        self.slices = tuple(
            slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape, strict=True)
        )
        return xp.pad(x, pad_width, constant_values=value)

    def backward(self, g):
        return (g[self.slices],)


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, xp.ndarray)) for i in items)


def _clean_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    return index


def reshape(x, shape) -> Tensor:
    """Reshape (one dimension may be -1)."""
    return Reshape.apply(x, shape=tuple(int(s) for s in shape))


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one (PyTorch's ``flatten``)."""
    ndim = x.ndim
    if ndim == 0:
        return reshape(x, (1,))
    start, end = start_dim % ndim, end_dim % ndim
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    return reshape(x, shape)


def permute(x, axes) -> Tensor:
    """Reorder the axes; ``axes`` is a permutation of range(ndim)."""
    axes = tuple(int(a) % max(x.ndim, 1) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"permute: expected a permutation of {x.ndim} axes, received {axes}")
    return Permute.apply(x, axes=axes)


def transpose(x, axes=None) -> Tensor:
    """Swap two axes (``(dim0, dim1)``), permute (all axes given), or reverse (None)."""
    if axes is None:
        return Permute.apply(x, axes=None)
    axes = tuple(axes)
    if len(axes) == 2 and x.ndim != 2:
        order = list(range(x.ndim))
        i, j = axes[0] % x.ndim, axes[1] % x.ndim
        order[i], order[j] = order[j], order[i]
        return permute(x, order)
    if len(axes) == 2 and x.ndim == 2 and sorted(a % 2 for a in axes) == [0, 1]:
        return Permute.apply(x, axes=(1, 0))
    return permute(x, axes)


def squeeze(x, axis=None) -> Tensor:
    """Drop size-1 dimensions (all, or the one given)."""
    if axis is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        axis = axis % x.ndim
        if x.shape[axis] != 1:
            return x
        shape = x.shape[:axis] + x.shape[axis + 1:]
    return reshape(x, shape)


def unsqueeze(x, axis: int) -> Tensor:
    """Insert a size-1 dimension at ``axis``."""
    axis = axis % (x.ndim + 1)
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def getitem(x, index) -> Tensor:
    """``x[index]`` with basic slices, integers, boolean masks and integer arrays."""
    index = _clean_index(index)
    return GetItem.apply(x, index=index)


def setitem(x, index, value) -> Tensor:
    """``x`` with ``x[index] = value``, out of place and differentiable in x and value
    (``Tensor.__setitem__`` makes it in place)."""
    index = _clean_index(index)
    if isinstance(value, Tensor):
        if value.dtype != x.dtype:
            value = value.astype(x.dtype)
    else:
        value = xp.asarray(value, dtype=x.dtype)
    return SetItem.apply(x, value, index=index)


def _dim(owner: str, dim: int, ndim: int) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{owner}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return int(dim) % max(ndim, 1)


def _index_array(owner: str, index):
    index = index.data if isinstance(index, Tensor) else xp.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{owner}: index must hold integers, received dtype {index.dtype}")
    return index


def expand(x, *sizes) -> Tensor:
    """Broadcast to ``sizes`` without copying (-1 keeps a dimension), as PyTorch's ``expand``.

    Leading dimensions may be added; a dimension can grow only from size 1.
    """
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    extra = len(sizes) - x.ndim
    if extra < 0:
        raise ValueError(f"expand: expected at least {x.ndim} sizes for shape {x.shape}, "
                         f"received {tuple(sizes)}")
    shape = tuple(
        x.shape[i - extra] if n == -1 and i >= extra else int(n) for i, n in enumerate(sizes)
    )
    for i, n in enumerate(x.shape):
        if n != 1 and shape[i + extra] != n:
            raise ValueError(f"expand: cannot expand dimension {i} of size {n} to "
                             f"{shape[i + extra]} (only size-1 dimensions grow)")
    return Expand.apply(x, shape=shape)


def repeat(x, *repeats) -> Tensor:
    """Tile ``x``: ``repeats[i]`` copies along dimension i (PyTorch's ``repeat``)."""
    if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
        repeats = tuple(repeats[0])
    repeats = tuple(int(r) for r in repeats)
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: expected at least {x.ndim} repeat counts for shape "
                         f"{x.shape}, received {repeats}")
    if any(r < 0 for r in repeats):
        raise ValueError(f"repeat: repeat counts must be >= 0, received {repeats}")
    return Repeat.apply(x, repeats=repeats)


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Split along ``dim`` into pieces of ``split_size`` (the last may be smaller), or of the
    sizes listed; each piece is a differentiable slice."""
    dim = _dim("split", dim, x.ndim)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, (int, xp.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be a positive int, received {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if sum(sizes) != n or any(k < 0 for k in sizes):
            raise ValueError(f"split: section sizes {sizes} must be >= 0 and sum to the "
                             f"dimension's size {n}")
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * dim + (slice(start, start + size),)
        pieces.append(getitem(x, index))
        start += size
    return tuple(pieces)


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """Split along ``dim`` into ``chunks`` pieces of ⌈n / chunks⌉ (fewer when n is small)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, received {chunks}")
    n = x.shape[_dim("chunk", dim, x.ndim)]
    return split(x, max(-(-n // chunks), 1), dim)


def gather(x, dim: int, index) -> Tensor:
    """``out[i][j] = x[i][index[i][j]]`` for dim=1 (and so on), as PyTorch's ``gather``.

    ``index`` has x's number of dimensions and no larger size than x off ``dim``.
    """
    dim = _dim("gather", dim, x.ndim)
    index = _index_array("gather", index)
    if index.ndim != x.ndim or any(
        k != dim and a > b for k, (a, b) in enumerate(zip(index.shape, x.shape, strict=True))
    ):
        raise ValueError(f"gather: index of shape {index.shape} does not fit input of shape "
                         f"{x.shape} (same number of dimensions, no larger off dim {dim})")
    return Gather.apply(x, index=index, dim=dim)


def index_select(x, dim: int, index) -> Tensor:
    """The slices of ``x`` at the 1-D integer ``index`` along ``dim``."""
    dim = _dim("index_select", dim, x.ndim)
    index = _index_array("index_select", index)
    if index.ndim != 1:
        raise ValueError(f"index_select: index must be 1-D, received shape {index.shape}")
    return IndexSelect.apply(x, index=index, dim=dim)


def t(x) -> Tensor:
    """Transpose a 2-D tensor (0-D and 1-D come back as they are), as PyTorch's ``t``."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with at most 2 dimensions, received {x.ndim}; "
                         "use transpose(dim0, dim1)")
    return x if x.ndim < 2 else Permute.apply(x, axes=(1, 0))


def cat(tensors, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Concatenate along an existing dimension ``dim`` (or ``axis``; default 0), as
    ``torch.cat``."""
    axis, _ = resolve_dim("cat", dim, axis)
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0].shape
    axis = axis % len(first)
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(  # the lengths agree once the first test passes
            a != b for k, (a, b) in enumerate(zip(t.shape, first, strict=True)) if k != axis
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, incompatible with {first} along axis {axis}"
            )
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Stack equal-shaped tensors along a new dimension ``dim`` (or ``axis``; default 0)."""
    axis, _ = resolve_dim("stack", dim, axis)
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, expected {tensors[0].shape}")
    return Stack.apply(*tensors, axis=axis % (tensors[0].ndim + 1))


def clone(x) -> Tensor:
    return Clone.apply(x)


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """Constant-pad with NumPy's ``pad_width`` ((before, after) per dimension)."""
    pad_width = tuple((int(a), int(b)) for a, b in pad_width)
    return Pad.apply(x, pad_width=pad_width, value=value)
