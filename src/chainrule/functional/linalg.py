"""Matrix products: ``matmul`` and the fused affine map ``linear``."""

from __future__ import annotations

from ..autograd import Function
from ..backend import xp
from ..tensor import Tensor
from ._util import coerce_pair, shape_of

__all__ = ["bmm", "linear", "matmul", "mm"]


class MatMul(Function):
    """y = a @ b (batched, NumPy's rules);  ∂L/∂a = g @ bᵀ,  ∂L/∂b = aᵀ @ g.

    A 1-D operand is treated as a row (a) or a column (b) vector and the
    dimension is dropped again from its gradient. Batch dimensions broadcast;
    the engine sums their gradients back.
    """

    fresh_grads = True  # every gradient below is a new array

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        if a.ndim == 1 and b.ndim == 1:  # inner product: ∂L/∂a = g b, ∂L/∂b = g a
            return g * b, g * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = xp.matmul(g, xp.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if self.needs_input_grad[1]:
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), g)
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


class Linear(Function):
    """The affine layer z = a Wᵀ + b for a batch of rows a (N, in), W (out, in), b (out,).

    This is the tutorial's z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, one sample per row. With
    δ = ∂J/∂z (the error term, shape (N, out)) the vector–Jacobian products are

    * ∂J/∂W = δᵀ a        (= Σᵢ δ⁽ⁱ⁾ a⁽ⁱ⁾ᵀ, the sum of outer products over the batch)
    * ∂J/∂b = Σᵢ δ⁽ⁱ⁾      (the bias gradient is summed over the batch)
    * ∂J/∂a = δ W         (which the previous layer multiplies by g'(z):
      δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾))

    Leading batch dimensions beyond the first are flattened into the batch.
    """

    fresh_grads = True  # every gradient below is a new array

    def forward(self, a, W, b=None):
        self.a, self.W = a, W
        z = a @ W.T
        if b is not None:
            z += b
        return z

    def backward(self, delta):
        a, W = self.a, self.W
        needs = self.needs_input_grad
        ga = delta @ W if needs[0] else None
        if delta.ndim != 2:  # rows of every leading dimension form the batch
            delta, a = delta.reshape(-1, delta.shape[-1]), a.reshape(-1, a.shape[-1])
        gW = delta.T @ a if needs[1] else None
        gb = delta.sum(axis=0) if len(needs) > 2 and needs[2] else None
        return ga, gW, gb


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's broadcasting rules.

    Raises ValueError naming both shapes when the inner dimensions differ.
    """
    a, b = coerce_pair(a, b)
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, received {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {tuple(sa)} and {tuple(sb)} are not aligned: "
            f"{inner_a} (last dimension of the first) != {inner_b} (the second's)"
        )
    try:
        xp.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of {tuple(sa)} and {tuple(sb)} cannot be broadcast"
        ) from None
    return MatMul.apply(a, b)


def _check_ndim(owner, a, b, ndim):
    if len(shape_of(a)) != ndim or len(shape_of(b)) != ndim:
        raise ValueError(f"{owner}: expected two {ndim}-D tensors, received shapes "
                         f"{tuple(shape_of(a))} and {tuple(shape_of(b))}")


def mm(a, b) -> Tensor:
    """The product of two matrices (2-D only, as ``torch.mm``); see :func:`matmul`."""
    _check_ndim("mm", a, b, 2)
    return matmul(a, b)


def bmm(a, b) -> Tensor:
    """Batched matrix product of (B, n, m) and (B, m, p) tensors (as ``torch.bmm``)."""
    _check_ndim("bmm", a, b, 3)
    if shape_of(a)[0] != shape_of(b)[0]:
        raise ValueError(f"bmm: batch sizes differ: {tuple(shape_of(a))} and {tuple(shape_of(b))}")
    return matmul(a, b)


def linear(input, weight, bias=None) -> Tensor:
    """z = input @ weightᵀ + bias, PyTorch's layout: weight is (out_features, in_features).

    Shapes: input (N, *, in_features) → output (N, *, out_features).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.ones((2, 3)))
    >>> W = cr.tensor(np.ones((4, 3)), requires_grad=True)
    >>> F.linear(x, W).shape
    (2, 4)
    """
    in_features = weight.shape[-1]
    if input.shape[-1] != in_features:
        raise ValueError(
            f"linear: expected input with last dimension {in_features} (weight shape "
            f"{tuple(weight.shape)}), received input of shape {tuple(input.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear: expected bias of shape ({weight.shape[0]},), received {tuple(bias.shape)}"
        )
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
