"""The ``chainrule`` command (also ``python -m chainrule``).

Subcommands: ``train``, ``evaluate``, ``predict``, ``attribute``, ``inspect``, ``datasets``,
``gradcheck``; each has ``--help``. ``chainrule train`` with no arguments trains
an MLP on the bundled digits set and prints its test accuracy.

An error (unknown dataset, missing file, bad model file, bad option) prints
one line, ``chainrule: error: ...``, on stderr and exits with status 2; add
``--debug`` to see the traceback instead.

How the package is laid out
---------------------------
- ``_common.py``: what every subcommand shares (:class:`CLIError`, the one-line
  error parser, option types such as ``positive_int``, model loading, tables).
- one module per subcommand (``train.py``, ``evaluate.py``, ...), each with
  ``add_parser(subparsers)`` that declares its options and points them at its
  ``run(args) -> int`` (through ``_common.add_command``);
- ``plots.py``: the run folder's plots.

Adding a subcommand
-------------------
1. Write ``cli/<name>.py`` with ``add_parser(subparsers)`` (call
   ``_common.add_command(subparsers, "<name>", help, description, run)`` and add
   the options to the parser it returns) and ``run(args) -> int``. Import heavy
   modules inside ``run`` so ``chainrule --help`` stays fast. Raise
   :class:`CLIError` (or ``ValueError``/``OSError``) for bad input: ``main``
   prints it as one line.
2. Add ``"<name>"`` to :data:`COMMANDS` below (the order is the order of
   ``chainrule --help``).
"""

from __future__ import annotations

import importlib
import sys

from ._common import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, CLIError, Parser, one_line

__all__ = ["COMMANDS", "CLIError", "build_parser", "main"]

COMMANDS = [
    "train",
    "finetune",
    "evaluate",
    "predict",
    "attribute",
    "inspect",
    "datasets",
    "gradcheck",
    "explain",
    "lr_find",
]
"""The subcommand modules of this package, in ``--help`` order: one line per subcommand."""


def build_parser() -> Parser:
    """The ``chainrule`` argument parser with every subcommand of :data:`COMMANDS`."""
    from .. import __version__

    parser = Parser(
        prog="chainrule",
        description="Train, evaluate and inspect neural networks written on NumPy.",
        epilog="Run 'chainrule COMMAND --help' for a command's options. "
               "'chainrule train' with no options trains an MLP on the digits set.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(subparsers)
    return parser


def _quiet_broken_pipe() -> int:
    """``chainrule datasets | head -2``: the reader left; stop quietly, as Unix tools do."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_OK


def main(argv=None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Errors print one line on stderr, ``chainrule: error: ...``, and return 2
    (1 for a run that failed, such as a diverged training); Ctrl-C returns 130.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    chainrule 0.1.0
    0
    """
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:
            if isinstance(exit_.code, int):
                return exit_.code
            return EXIT_OK if exit_.code is None else EXIT_ERROR
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return EXIT_ERROR
        args.argv = list(sys.argv[1:] if argv is None else argv)  # to relaunch under mpiexec
        status = args.handler(args)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        if debug:
            raise
        print("chainrule: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except Exception as error:
        if debug:
            raise
        print(f"chainrule: error: {one_line(error)}", file=sys.stderr)
        return getattr(error, "exit_status", EXIT_ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
