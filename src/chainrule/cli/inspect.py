"""``chainrule inspect``: a saved model's layers, output shapes and parameter counts."""

from __future__ import annotations

from ._common import EXIT_OK, add_command, guess_input_shape, load_model, model_path, table, xp


def add_parser(subparsers):
    p = add_command(subparsers, "inspect",
                    "show a saved model's layers, output shapes and parameter counts",
                    "Print a table of the model's layers with output shapes (when the input shape "
                    "is known) and parameter counts.", run)
    p.add_argument("model", metavar="MODEL",
                   help="a run folder, a model folder or a .safetensors file")
    return p


def output_shapes(model, input_shape):
    """Run one zero sample through the model and record each module's output shape."""
    from ..autograd import no_grad
    from ..tensor import Tensor

    np_ = xp()
    shapes = {}
    patched = []
    for name, module in model.named_modules():
        original = module.forward

        def recorder(*a, _name=name, _original=original, **k):
            out = _original(*a, **k)
            first = out[0] if isinstance(out, tuple) else out
            shapes[_name] = tuple(first.shape) if hasattr(first, "shape") else None
            return out

        object.__setattr__(module, "forward", recorder)
        patched.append(module)
    try:
        dtype = next((p.dtype for p in model.parameters()), np_.float32)
        with no_grad():
            model.eval()(Tensor(np_.zeros((1, *input_shape), dtype=dtype)))
    except Exception:  # noqa: BLE001 - shapes are a best effort
        shapes = {}
    finally:
        for module in patched:
            del module.__dict__["forward"]
    return shapes


def run(args) -> int:
    model, info = load_model(args.model)
    input_shape = guess_input_shape(model, info)
    shapes = output_shapes(model, input_shape) if input_shape else {}
    rows = []
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        own = sum(int(p.data.size) for p in module.parameters(recurse=False))
        shape = shapes.get(name)
        label = ("  " * depth) + (name.split(".")[-1] if name else "(model)")
        rows.append([label, type(module).__name__,
                     "-" if shape is None else "(N, " + ", ".join(map(str, shape[1:])) + ")",
                     f"{own:,}" if own else ""])
    total = sum(int(p.data.size) for p in model.parameters())
    trainable = sum(int(p.data.size) for p in model.parameters() if p.requires_grad)
    print(f"model: {model_path(args.model)}")
    if input_shape:
        print(f"input: (N, {', '.join(map(str, input_shape))})")
    print(table(["layer", "type", "output shape", "params"], rows))
    print(f"total parameters: {total:,} (trainable {trainable:,})")
    return EXIT_OK
