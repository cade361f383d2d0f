"""The ``scget`` command line: ``scget demo`` and ``scget train``."""

from __future__ import annotations

import argparse
import importlib
import sys

#: Sub-command -> module providing ``add_arguments(parser)`` and ``run(args)``.
_COMMANDS = {
    "demo": ("scget._demo", "Run the whole pipeline on a simulated multiome."),
    "train": (
        "scget.tl._training._cli",
        "Train GET from a saved .h5mu (single process or torchrun).",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``scget`` command."""
    parser = argparse.ArgumentParser(prog="scget", description=__doc__)
    parser.add_argument("-v", "--verbosity", type=int, default=2, help="0 errors .. 3 debug")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``scget`` console script."""
    import scget

    args = build_parser().parse_args(argv)
    scget.settings.verbosity = args.verbosity
    return int(importlib.import_module(args._module).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
