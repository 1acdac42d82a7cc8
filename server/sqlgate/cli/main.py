"""Entry point of the `sqlgate` console script.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` (``Callable[[argparse.Namespace], int]``) as the handler.
Exit codes (``sqlgate_client.exitcodes``, the README's table): 0 allow/success, 1 deny,
refused or verification failed, 3 needs approval, 2 usage or input error, 4
authentication or permission, 5 server unavailable or internal error, 6 local setup
(config, policies, keys, store). Handlers return a decision's code and raise for the
rest; ``exit_code_for`` is the one place failures become codes, so no error can exit 1
and be read as a deny.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlgate_client import errors as client_errors
from sqlgate_client import exitcodes

from sqlgate import __version__
from sqlgate.errors import (
    AuditError,
    AuthError,
    ConfigError,
    Conflict,
    ExecutionRefused,
    InputError,
    NotFound,
    PolicyLoadError,
    SqlgateError,
)

EXIT_OK = exitcodes.OK
EXIT_DENY = exitcodes.DENY
EXIT_USAGE = exitcodes.USAGE
EXIT_NEEDS_APPROVAL = exitcodes.NEEDS_APPROVAL
EXIT_AUTH = exitcodes.AUTH
EXIT_UNAVAILABLE = exitcodes.UNAVAILABLE
EXIT_CONFIG = exitcodes.CONFIG

# Subcommands in the order --help lists them: command -> (module, one-line help). The
# module (``register(subparsers)``) is imported only when its command runs, so a
# one-file `check --local` never loads gRPC, psycopg or the crypto stack that other
# commands need (tests/test_cli_imports.py). The help line here is what `sqlgate --help`
# shows; tests/test_cli_imports.py checks it matches the module's own.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the sqlgate gRPC service"),
    "check": ("check", "review migrations against policy"),
    "approve": ("approve", "approve a verdict (re-signed with the approval)"),
    "token": ("token", "exchange an allowed verdict for a single-use execution token"),
    "verdict": ("verdict", "work with signed verdicts"),
    "policy": ("policy", "work with the Rego policy tree"),
    "catalog": (
        "catalog",
        "read a live database schema (read-only) and print it as catalog JSON",
    ),
    "keys": ("keys", "manage the signing keyset"),
    "audit": ("audit", "inspect and verify the audit log"),
    "dev-config": ("dev_config", "write a local development config with demo users"),
}


class _LazySubcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Subparsers whose real parser is built (its module imported) when it is invoked."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        assert isinstance(values, list)
        name = values[0]
        if name in SUBCOMMANDS and getattr(self._name_parser_map[name], "_sqlgate_stub", False):
            load_subcommand(self, name)
        super().__call__(parser, namespace, values, option_string)


def load_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
    """Replace the placeholder parser of ``name`` with the one its module registers."""
    module_name, _ = SUBCOMMANDS[name]
    module = importlib.import_module(f"sqlgate.cli.{module_name}")
    del sub._name_parser_map[name]
    listed = list(sub._choices_actions)
    module.register(sub)
    sub._choices_actions[:] = listed  # keep the placeholder's --help line, listed once


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sqlgate", description="Policy-as-code review gate for database migrations."
    )
    parser.add_argument("--version", action="version", version=f"sqlgate {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, action=_LazySubcommands
    )
    for name, (_, help_text) in SUBCOMMANDS.items():
        stub = sub.add_parser(name, help=help_text, add_help=False)
        stub._sqlgate_stub = True  # type: ignore[attr-defined]
    return parser


def exit_code_for(exc: BaseException) -> int:
    """The exit code for a failure that kept a command from completing."""
    client = exitcodes.for_exception(exc)
    if client is not None:
        return client
    if isinstance(exc, InputError | NotFound):
        return EXIT_USAGE
    if isinstance(exc, ConfigError | PolicyLoadError):
        return EXIT_CONFIG
    if isinstance(exc, AuthError):
        return EXIT_AUTH
    if isinstance(exc, client_errors.TrustError | AuditError | ExecutionRefused | Conflict):
        return EXIT_DENY  # verified and found wanting, or refused: the gate said no
    return EXIT_UNAVAILABLE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except KeyboardInterrupt:
        print("sqlgate: interrupted", file=sys.stderr)
        return 130
    except (SqlgateError, client_errors.TrustError) as exc:
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except Exception as exc:  # noqa: BLE001 - anything unforeseen: say so, never "deny"
        code = exit_code_for(exc)
        if code == EXIT_UNAVAILABLE:
            print(f"sqlgate: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"sqlgate: error: {exc}", file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
