"""``sqlgate check``: review migration files against policy, remotely or ``--local``.

Paths (files or directories) are expanded and ordered by
``sqlgate_client.ordering.collect``; each file's ``<file>.yaml`` sidecar goes along as
metadata. ``--server`` (or SQLGATE_SERVER) sends them to a sqlgate server; ``--local``
runs the same review use case in-process. Both produce the same result dict and go
through the same renderers; a server also returns a signed verdict (``verdict_id`` and
``verdict``, the DSSE envelope as a JSON object), ``--local`` is unsigned and has none.
The API token for the server comes from SQLGATE_TOKEN; TLS/mTLS to it from
``--tls-ca/--tls-cert/--tls-key`` (or SQLGATE_TLS_CA/CERT/KEY, ``sqlgate_client.tls``).
Exit: 0 allow, 1 deny, 3 needs approval; failures raise and ``sqlgate.cli.main`` maps
them (2 usage/input, 4 auth, 5 server unavailable/internal, 6 local setup).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlgate_client.check import (
    DIALECTS,
    InvalidRequest,
    MigrationInput,
    check_remote,
    find_rollback_files,
    read_migrations,
    server_from_env,
    token_from_env,
)
from sqlgate_client.exitcodes import BY_DECISION, for_decision
from sqlgate_client.render import FORMATS, render
from sqlgate_client.tls import add_tls_arguments, tls_from_args

from sqlgate.cli.main import EXIT_USAGE
from sqlgate.environments import require_declared

EXIT_BY_DECISION = BY_DECISION
# --local without --env: the strictest levels (policies/data/levels.yaml defaults are
# production's), so a developer's local lint never passes what production would stop.
DEFAULT_LOCAL_ENV = "production"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "check",
        help="review migrations against policy",
        description="Review migration files against policy; the exit code gates the merge "
        "(0 allow, 1 deny, 3 needs approval, 2 usage or input error, 4 authentication, "
        "5 server unavailable or internal error, 6 config/policies/keys).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="migration files or directories")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--server", metavar="ADDR", help="sqlgate server (default: $SQLGATE_SERVER)")
    where.add_argument(
        "--local",
        action="store_true",
        help="review in-process, no server: the result is unsigned (no verdict_id/verdict)",
    )
    p.add_argument(
        "--env",
        dest="environment",
        help=f"target environment (required with a server; --local default: {DEFAULT_LOCAL_ENV})",
    )
    p.add_argument("--target", default="default", help="target database name (default: default)")
    p.add_argument("--dialect", default="postgres", help="postgres or mysql (default: postgres)")
    p.add_argument("--format", default="text", dest="fmt", help=f"one of: {', '.join(FORMATS)}")
    add_tls_arguments(p)
    p.add_argument("--repo", default="", help="repository, e.g. acme/app")
    p.add_argument("--commit", default="", help="commit being reviewed")
    p.add_argument(
        "--author",
        default="",
        help="principal id of the change's author (callers with the ci role; default: caller)",
    )
    p.add_argument(
        "--var", action="append", default=[], metavar="K=V", help="template placeholder value"
    )
    p.add_argument(
        "--server-version",
        "--pg-version",
        default="",
        dest="server_version",
        help="target server version, e.g. 16 (default: the catalog's)",
    )
    p.add_argument(
        "--catalog",
        type=Path,
        help="catalog JSON from `sqlgate catalog` (sent to the server with --server)",
    )
    p.add_argument(
        "--since",
        default="",
        metavar="VERSION",
        help="files up to and including VERSION are already applied: replayed, not reviewed",
    )
    p.add_argument(
        "--base",
        default="",
        metavar="GIT_REF",
        help="files unchanged since the merge base of HEAD and GIT_REF are already applied "
        "(context); new and edited files are reviewed (the CI default, e.g. origin/main)",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")
    p.add_argument("--config", type=Path, help="server config for --local (policies, limits)")
    p.add_argument("--policies", type=Path, help="policies directory for --local")
    p.set_defaults(func=run)


def parse_vars(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidRequest(f"--var expects KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _check_local(
    args: argparse.Namespace,
    migrations: list[MigrationInput],
    catalog: bytes | None,
    rollback_files: list[str],
    context_files: list[str],
) -> dict[str, Any]:
    # Imported here so a remote check never loads the parser or the Rego engine.
    from sqlgate.config import load_config, with_overrides
    from sqlgate.parse import ParsePool
    from sqlgate.policy.factory import load_engine
    from sqlgate.review import MigrationFile, ReviewRequest, request_limits, review
    from sqlgate.targets import TargetCatalogs

    config = with_overrides(load_config(args.config), policies_dir=args.policies)
    if config.environments:  # --local issues no verdict; a config that declares, binds
        require_declared(config, args.environment, args.target)
    request = ReviewRequest(
        repo=args.repo,
        commit=args.commit,
        environment=args.environment,
        target=args.target,
        dialect=args.dialect,
        migrations=[MigrationFile(m.path, m.content, m.metadata) for m in migrations],
        variables=parse_vars(args.var),
        server_version=args.server_version or None,
        catalog=catalog,
        rollback_files=tuple(rollback_files),
        context_files=tuple(context_files),
        since=args.since or None,
    )
    status = _Progress.for_output(args.fmt)
    # In this process: one review does not pay for a worker pool (docs/config.md).
    engine = load_engine(config, in_process=True)
    # One-shot: a pool's start-up and per-file IPC cost more than they save (docs/config.md).
    pool = ParsePool(config.parse_workers) if config.parse_workers > 1 else None
    try:
        result = review(
            request,
            engine=engine,
            limits=request_limits(config.limits),
            pool=pool,
            catalogs=TargetCatalogs(config.targets),
            progress=status.show if status else None,
        )
    finally:
        if status is not None:
            status.clear()
        if pool is not None:
            pool.close()
        close = getattr(engine, "close", None)
        if callable(close):
            close()
    return result.to_json()


class _Progress:
    """One status line on a terminal's stderr, rewritten per stage and cleared at the end.

    Only for people: nothing when stderr is not a terminal or the output is for machines.
    """

    MACHINE_FORMATS = ("json", "sarif", "gitlab")

    def __init__(self) -> None:
        self._width = 0

    @classmethod
    def for_output(cls, fmt: str) -> _Progress | None:
        if fmt in cls.MACHINE_FORMATS or not sys.stderr.isatty():
            return None
        return cls()

    def show(self, text: str) -> None:
        line = f"sqlgate: {text}…"
        sys.stderr.write("\r" + line.ljust(self._width))
        sys.stderr.flush()
        self._width = max(self._width, len(line))

    def clear(self) -> None:
        sys.stderr.write("\r" + " " * self._width + "\r")
        sys.stderr.flush()


def _error(message: str) -> int:
    print(f"sqlgate: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    if args.fmt not in FORMATS:
        return _error(f"unknown format {args.fmt!r} (available: {', '.join(FORMATS)})")
    if args.dialect not in DIALECTS:
        return _error(f"unknown dialect {args.dialect!r} (expected one of: {', '.join(DIALECTS)})")
    address = args.server or (None if args.local else server_from_env())
    if not args.local and not address:
        return _error("no server: pass --server ADDR, set SQLGATE_SERVER, or use --local")
    if not args.environment:
        if not args.local:
            return _error("--env is required with a server (the verdict is for one environment)")
        args.environment = DEFAULT_LOCAL_ENV
    try:
        variables = parse_vars(args.var)
        files = _collect(args.paths)
        migrations = read_migrations(files)
        rollback_files = find_rollback_files(files)
        catalog = _read_catalog(args.catalog)
        context_files = _base_context(args.base, files, migrations)
        if args.local:
            result = _check_local(args, migrations, catalog, rollback_files, context_files)
        else:
            result = check_remote(
                address or "",
                migrations=migrations,
                environment=args.environment,
                target=args.target,
                dialect=args.dialect,
                repo=args.repo,
                commit=args.commit,
                variables=variables,
                timeout=args.timeout,
                server_version=args.server_version,
                token=token_from_env(),
                tls=tls_from_args(args),
                author=args.author,
                catalog=catalog,
                rollback_files=rollback_files,
                context_files=context_files,
                since=args.since,
            )
    except InvalidRequest as exc:
        return _error(str(exc))
    sources = {m.path: m.content.decode("utf-8", errors="replace") for m in migrations}
    sys.stdout.write(render(args.fmt, result, sources))
    return for_decision(result["decision"])


def _base_context(base: str, files: Sequence[Path], migrations: list[MigrationInput]) -> list[str]:
    """With ``--base``: the files unchanged since the merge base (sqlgate_client.pending)."""
    if not base:
        return []
    from sqlgate_client.pending import PendingError, context_base

    try:
        return context_base(
            [(m.path, f, m.content) for f, m in zip(files, migrations, strict=True)], base
        )
    except PendingError as exc:
        raise InvalidRequest(str(exc)) from exc


def _read_catalog(path: Path | None) -> bytes | None:
    """The catalog file's bytes (the server validates them); InvalidRequest if unreadable."""
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"{path}: cannot read catalog: {exc.strerror}") from exc


def _collect(paths: Sequence[str]) -> list[Path]:
    """Expand and order the paths; InvalidRequest for a path that does not exist."""
    for raw in paths:
        if not Path(raw).exists():
            raise InvalidRequest(f"{raw}: no such file or directory")
    from sqlgate_client.ordering import collect

    try:
        files = collect([Path(p) for p in paths])
    except (OSError, ValueError) as exc:
        raise InvalidRequest(str(exc)) from exc
    if not files:
        raise InvalidRequest(f"no migration files found in {', '.join(paths)}")
    return list(files)
