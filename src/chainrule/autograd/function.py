"""``Function``: the base class of every differentiable primitive, and how a call is recorded."""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .engine import VersionCounter
from .grad_mode import forward_anomaly, nonfinite, state

__all__ = ["Function"]


class Function:
    """Base class of a differentiable primitive.

    Subclasses implement

    * ``forward(self, *arrays, **options) -> array``: compute the output and
      keep on ``self`` whatever ``backward`` needs;
    * ``backward(self, grad_output) -> tuple``: one gradient (an array shaped
      like the forward's *broadcast* operand, or ``None``) per input. The
      engine sums broadcast gradients back to each input's shape.

    ``self.needs_input_grad`` tells ``backward`` which gradients are wanted, so
    it can skip the rest. ``self.owns_grad_output`` is True when nothing but
    this call references ``grad_output``, so ``backward`` may overwrite it
    (ReLU masks it in place). Call a primitive with ``MyFunction.apply(...)``.

    A recorded call is the output tensor's ``grad_fn``; ``name()`` gives
    PyTorch's style of name (``MulBackward``) and ``next_functions`` the nodes of its inputs.
    """

    needs_input_grad: tuple = ()
    inputs: tuple = ()
    released: bool = False
    owns_grad_output: bool = False
    fresh_grads: bool = False
    """Set True on a subclass whose ``backward`` returns distinct arrays that nothing else
    references (newly allocated, or the grad_output it owns): the engine then stores one as a
    leaf's first ``.grad`` without a copy (a parameter's gradient is not copied every step) and
    lets the next ``backward`` overwrite it."""
    input_versions: tuple | None = None
    """The inputs' in-place version counts when the call was recorded (None: all 0)."""
    output_version: int = 0
    """The output's version when recorded (not 0 for a recorded in-place op or a view of a
    modified tensor)."""
    output_may_be_view: bool = False
    """Set True on a subclass whose forward may return a view of its first input's array
    (reshape, permute, basic indexing, expand): the output then shares that input's version
    counter, so an in-place write through either is seen by nodes that saved the other."""

    @classmethod
    def apply(cls, *inputs, **options):
        """Run ``forward`` on the inputs' arrays; record the call when grad mode is on and an
        input requires grad."""
        arrays = []
        tensors = []
        any_requires_grad = False
        modified = False
        for x in inputs:  # one pass: this is on the path of every op
            if isinstance(x, Tensor):
                arrays.append(x.data)
                tensors.append(x)
                any_requires_grad = any_requires_grad or x._requires_grad
                modified = modified or x._vc is not None
            else:
                arrays.append(x)
                tensors.append(None)
        fn = cls()
        record = any_requires_grad and state.grad_enabled
        if record:
            fn.needs_input_grad = tuple(t is not None and t._requires_grad for t in tensors)
        out = fn.forward(*arrays, **options)
        if state.anomaly:
            if nonfinite(out):
                raise forward_anomaly(cls.__name__, arrays, tensors, state.modules)
            fn.modules = tuple(state.modules)   # for the backward's report
        if not record:
            result = Tensor._from_op(out, None)
            if cls.output_may_be_view:
                _share_version(result, tensors[0], arrays[0], None)
            return result
        fn.inputs = tuple(tensors)
        if modified:  # some input was modified in place before: remember its version
            fn.input_versions = tuple(
                0 if t is None or t._vc is None else t._vc.value for t in tensors
            )
        result = Tensor._from_op(out, fn)
        if cls.output_may_be_view:
            _share_version(result, tensors[0], arrays[0], fn)
        return result

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self):
        """Drop the arrays kept for backward (called by the engine); keep the graph's edges."""
        kept = {
            "needs_input_grad": self.needs_input_grad,
            "inputs": self.inputs,
            "released": True,
            "input_versions": self.input_versions,
            "output_version": self.output_version,
        }
        self.__dict__.clear()
        self.__dict__.update(kept)

    def name(self) -> str:
        """``<Primitive>Backward``, as PyTorch names its nodes."""
        return type(self).__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        """``(node, 0)`` for each input: its ``grad_fn``, or None for a leaf or a constant."""
        return tuple((None if t is None else t._ctx, 0) for t in self.inputs)

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _share_version(result: Tensor, source, source_array, fn) -> None:
    """Give a view the version counter of the tensor whose array it views."""
    if source is None or not xp.may_share_memory(result.data, source_array):
        return
    if source._vc is None:
        source._vc = VersionCounter()
    result._vc = source._vc
    if fn is not None:
        fn.output_version = source._vc.value
