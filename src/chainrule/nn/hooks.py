"""Module hooks: forward pre-hooks, forward hooks and full backward hooks (PyTorch's semantics).

How the backward hook sees every gradient at once
-------------------------------------------------
``hook(module, grad_input, grad_output)`` needs the gradients with respect to all of the
module's inputs and outputs together, but a recorded node has one output. So, only while a
backward hook is registered, the call is wrapped in two pairs of nodes:

* before ``forward``, the tensor inputs that require grad are packed into one flat array by
  :class:`PackInputs`, and each input is read back out of it by :class:`Unpack` (a view);
* after the forward hooks, the tensor outputs are packed the same way by :class:`PackOutputs`.

Every output gradient meets in PackOutputs' backward (recorded as ``grad_output``); every
input gradient meets in PackInputs' backward, where the hook runs and may return
replacements for ``grad_input``. Both packs are identities (their VJP passes the gradient
through), so without hooks the numbers are unchanged. A module whose inputs need no
gradient (the first layer) fires its hook from PackOutputs, with ``grad_input`` all None.
"""

from __future__ import annotations

from ..autograd import Function
from ..autograd.hooks import HooksDict, RemovableHandle
from ..backend import xp
from ..tensor import Tensor

__all__ = ["call_with_hooks", "register"]


def register(module, table_name: str, hook) -> RemovableHandle:
    """Add ``hook`` to ``module``'s hook table ``table_name``; the module's calls then go
    through :func:`call_with_hooks`."""
    if not callable(hook):
        raise TypeError(
            f"{type(module).__name__}.register_{table_name[1:-1]}: expected a callable, "
            f"received {type(hook).__name__}"
        )
    table = module.__dict__.get(table_name)
    if table is None:
        table = HooksDict()
        object.__setattr__(module, table_name, table)
    handle = RemovableHandle(table)
    table[handle.id] = hook
    object.__setattr__(module, "_has_hooks", True)
    return handle


class _BackwardRecord:
    """What one hooked call shares between its two packs."""

    def __init__(self, module, args, input_slots):
        self.module, self.n_args, self.input_slots = module, len(args), input_slots
        self.grad_output = None

    def fire(self, grad_input):
        """Run the module's backward hooks; return the (possibly replaced) grad_input."""
        for hook in list(self.module.__dict__.get("_backward_hooks", {}).values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise ValueError(
                        f"backward hook of {type(self.module).__name__}: expected "
                        f"{len(grad_input)} "
                        f"gradients (one per input), received {len(result)}"
                    )
                grad_input = result
        return grad_input


def _pack(arrays):
    dtype = xp.result_type(*arrays)
    return xp.concatenate([xp.ravel(a).astype(dtype, copy=False) for a in arrays])


def _split(g, shapes):
    pieces, offset = [], 0
    for shape in shapes:
        size = int(xp.prod(shape)) if shape else 1
        pieces.append(g[offset : offset + size].reshape(shape))
        offset += size
    return pieces


class PackInputs(Function):
    """packed = [x₁; x₂; …] (flattened);  VJP: the slices of g, after the backward hooks."""

    def forward(self, *xs, record=None):
        self.record, self.shapes = record, [x.shape for x in xs]
        return _pack(xs)

    def backward(self, g):
        record = self.record
        pieces = _split(g, self.shapes)
        grad_input = [None] * record.n_args
        for slot, piece in zip(record.input_slots, pieces, strict=True):
            grad_input[slot] = piece
        grad_input = record.fire(tuple(grad_input))
        out = []
        for slot, piece in zip(record.input_slots, pieces, strict=True):
            replaced = grad_input[slot]
            out.append(
                xp.zeros_like(piece)
                if replaced is None
                else xp.asarray(getattr(replaced, "data", replaced), dtype=piece.dtype)
            )
        return tuple(out)


class PackOutputs(Function):
    """packed = [y₁; y₂; …];  VJP: the slices of g, recorded as grad_output (the hook fires
    here when no input needs a gradient)."""

    def forward(self, *ys, record=None, output_slots=(), n_outputs=1):
        self.record, self.shapes = record, [y.shape for y in ys]
        self.output_slots, self.n_outputs = output_slots, n_outputs
        return _pack(ys)

    def backward(self, g):
        pieces = _split(g, self.shapes)
        grad_output = [None] * self.n_outputs
        for slot, piece in zip(self.output_slots, pieces, strict=True):
            grad_output[slot] = piece
        self.record.grad_output = tuple(grad_output)
        if not self.record.input_slots:
            self.record.fire((None,) * self.record.n_args)
        return tuple(pieces)


class Unpack(Function):
    """x = packed[offset : offset + size] reshaped;  VJP: g at those positions, zeros elsewhere."""

    def forward(self, packed, offset=0, shape=(), dtype=None):
        self.offset, self.size, self.total = (
            offset,
            int(xp.prod(shape)) if shape else 1,
            packed.shape[0],
        )
        return packed[offset : offset + self.size].reshape(shape).astype(dtype, copy=False)

    def backward(self, g):
        full = xp.zeros(self.total, dtype=g.dtype)
        full[self.offset : self.offset + self.size] = xp.ravel(g)
        return (full,)


def _repack(pack_class, tensors, **options):
    """Pack ``tensors`` through ``pack_class`` and read each back out: new tensors in the graph."""
    packed = pack_class.apply(*tensors, **options)
    unpacked, offset = [], 0
    for t in tensors:
        unpacked.append(Unpack.apply(packed, offset=offset, shape=t.shape, dtype=t.dtype))
        offset += t.data.size
    return unpacked


def _wrap_inputs(module, args):
    slots = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    record = _BackwardRecord(module, args, slots)
    if not slots:
        return args, record
    unpacked = _repack(PackInputs, [args[i] for i in slots], record=record)
    args = list(args)
    for slot, tensor in zip(slots, unpacked, strict=True):
        args[slot] = tensor
    return tuple(args), record


def _wrap_outputs(record, output):
    outputs = output if isinstance(output, tuple) else (output,)
    slots = [i for i, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]
    if not slots:
        return output
    unpacked = _repack(
        PackOutputs,
        [outputs[i] for i in slots],
        record=record,
        output_slots=slots,
        n_outputs=len(outputs),
    )
    outputs = list(outputs)
    for slot, tensor in zip(slots, unpacked, strict=True):
        outputs[slot] = tensor
    return tuple(outputs) if isinstance(output, tuple) else outputs[0]


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks, in PyTorch's order: forward pre-hooks (may
    replace the inputs), the backward hook's input pack, ``forward``, forward hooks (may replace
    the output), the backward hook's output pack."""
    for hook in list(module.__dict__.get("_forward_pre_hooks", {}).values()):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    backward = bool(module.__dict__.get("_backward_hooks"))
    record = None
    if backward:
        args, record = _wrap_inputs(module, args)
    output = module.forward(*args, **kwargs)
    for hook in list(module.__dict__.get("_forward_hooks", {}).values()):
        result = hook(module, args, output)
        if result is not None:
            output = result
    if backward:
        output = _wrap_outputs(record, output)
    return output
