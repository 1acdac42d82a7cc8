"""``sqlgate catalog``: print a database's live schema as catalog JSON.

The DSN may come from ``--dsn`` or, to keep a password off the command line, the
SQLGATE_CATALOG_DSN environment variable. Connection and read failures are
CatalogError (an InputError), which main() turns into exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sqlgate.catalog import dumps_catalog, read_catalog
from sqlgate.errors import CatalogError

DSN_ENV = "SQLGATE_CATALOG_DSN"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="read a live database schema (read-only) and print it as catalog JSON",
        description="Read a PostgreSQL or MySQL/MariaDB schema in a READ ONLY transaction "
        "and print it as catalog JSON (docs/catalog.md).",
    )
    parser.add_argument(
        "--dsn",
        default=None,
        help="postgresql://..., libpq key=value, or mysql://user:pass@host:port/db "
        f"(default: ${DSN_ENV})",
    )
    parser.add_argument("--output", "-o", type=Path, default=None, help="write to FILE")
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="per-statement time limit in seconds"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dsn = args.dsn or os.environ.get(DSN_ENV)
    if not dsn:
        raise CatalogError(f"no DSN: pass --dsn or set {DSN_ENV}")
    if args.timeout <= 0:
        raise CatalogError("--timeout must be positive")
    text = dumps_catalog(read_catalog(dsn, timeout_s=args.timeout))
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 0
