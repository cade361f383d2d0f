"""The ``scget`` command line: ``scget demo`` and ``scget train``."""

from __future__ import annotations

import argparse
import importlib
import sys

from ._shared.allocator import keep_freed_memory
from ._shared.settings import settings

#: Errors that report bad input: printed on one line (exit status 2) unless verbose.
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, FileExistsError, NotADirectoryError)
#: Verbosity at which errors show their traceback (also ``--verbose``).
DEBUG = 3

#: What ``scget --help`` says (plain text: argparse prints it as it is).
DESCRIPTION = (
    "GET, the general expression transformer, for single-cell multiome data. "
    "'scget demo' runs the whole pipeline on a simulated multiome; 'scget train' trains "
    "GET from a saved .h5mu. 'scget COMMAND --help' describes each command."
)
#: Sub-command -> module providing ``add_arguments(parser)`` and ``run(args)``.
_COMMANDS = {
    "demo": ("scget._cli.demo", "Run the whole pipeline on a simulated multiome."),
    "train": (
        "scget.tl._training._cli",
        "Train GET from a saved .h5mu (single process or torchrun).",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``scget`` command."""
    parser = argparse.ArgumentParser(prog="scget", description=DESCRIPTION)
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=range(DEBUG + 1),
        default=2,
        metavar="{0,1,2,3}",
        help="0 errors .. 3 debug (with tracebacks)",
    )
    parser.add_argument(
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=DEBUG,
        help=f"same as -v {DEBUG}: debug messages, and tracebacks of errors",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="torch's CPU threads (default: OMP_NUM_THREADS, else the cores not busy with "
        "other work; see scget.settings.n_threads)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scget`` console script.

    Bad input (:data:`USER_ERRORS`) is reported as one ``error: ...`` line on stderr with
    exit status 2, as argparse reports bad options; ``-v 3`` (``--verbose``) raises it
    with its traceback instead.
    """
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    settings.verbosity = args.verbosity
    try:
        settings.n_threads = args.threads
    except ValueError as error:
        build_parser().error(f"--threads: {error}")
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except USER_ERRORS as error:
        if args.verbosity >= DEBUG:
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"scget {args.command}: error: {' '.join(str(message).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
