"""The `serra` command line. Subcommands import their layers lazily so `--help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each module has `register(subparsers)` adding its subcommands; every handler returns an exit code.
_COMMAND_MODULES = (
    "app.cli_sim",
    "app.cli_device",
    "app.cli_run",
    "app.cli_db",
    "app.cli_supply",
    "app.cli_compete",
    "app.cli_model",
)


class CliError(Exception):
    """A user mistake on the command line: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every `serra` subcommand."""
    parser = argparse.ArgumentParser(prog="serra", description="Serra greenhouse controller")
    subparsers = parser.add_subparsers(dest="command")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `serra` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from app.gui.display import display_problem  # before Qt: one line, not its abort

            problem = display_problem()
            if problem is not None:
                raise CliError(problem)
            from app.gui.launcher import launch  # lazy: headless commands never load Qt

            return launch()
        return args.handler(args)
    except CliError as exc:
        print(f"serra: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (`serra sim run | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
