"""Shape primitives: reshape, transpose, indexing, cat, stack, and friends."""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import as_tensor

__all__ = [
    "cat",
    "clone",
    "flatten",
    "getitem",
    "pad",
    "permute",
    "reshape",
    "squeeze",
    "stack",
    "transpose",
    "unsqueeze",
]


class Reshape(Function):
    """y = x viewed with a new shape;  ∂L/∂x = g reshaped back."""

    def forward(self, x, shape=None):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {tuple(shape)}") from None

    def backward(self, g):
        return (g.reshape(self.shape),)


class Permute(Function):
    """y = x with axes permuted;  ∂L/∂x = g with the inverse permutation."""

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

    def forward(self, x, index=None):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            xp.add.at(grad, self.index, g)
        else:
            grad[self.index] = g
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
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
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


def cat(tensors, axis: int = 0) -> Tensor:
    """Concatenate along an existing axis (PyTorch's ``torch.cat``)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    first = tensors[0].shape
    axis = axis % len(first)
    for i, t in enumerate(tensors):
        if t.ndim != len(first) or any(a != b for k, (a, b) in enumerate(zip(t.shape, first)) if k != axis):
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, incompatible with {first} along axis {axis}")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new axis."""
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
