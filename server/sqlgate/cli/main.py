"""Entry point of the `sqlgate` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` (``Callable[[argparse.Namespace], int]``) as the handler.
Exit codes: 0 allow/success, 1 deny/failure, 3 needs approval, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from sqlgate import __version__
from sqlgate.errors import InputError, SqlgateError

EXIT_OK = 0
EXIT_DENY = 1
EXIT_USAGE = 2
EXIT_NEEDS_APPROVAL = 3

# Subcommand modules, in the order --help lists them. A missing module is skipped so a
# partially built tree still runs; each module registers exactly one top-level command.
SUBCOMMANDS = (
    "serve",
    "check",
    "approve",
    "token",
    "verdict",
    "policy",
    "catalog",
    "keys",
    "audit",
    "dev_config",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlgate", description="Policy-as-code review gate for database migrations."
    )
    parser.add_argument("--version", action="version", version=f"sqlgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"sqlgate.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sqlgate.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except InputError as exc:
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SqlgateError as exc:
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return EXIT_DENY


if __name__ == "__main__":
    raise SystemExit(main())
