"""Persistence for the trust chain: verdicts, approvals, tokens, reports, audit events.

``open_store(url)`` picks the backend: ``sqlite:///relative/path.db`` or
``sqlite:////absolute/path.db`` (the embedded single-node default) and
``postgresql://...`` / ``postgres://...`` (shared by several replicas). A ``schema``
query parameter on a PostgreSQL URL keeps sqlgate's tables in that PostgreSQL schema.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlgate.errors import ConfigError
from sqlgate.store.base import (
    ApprovalRecord,
    AuditRecord,
    CheckpointRecord,
    ExecutionRecord,
    Store,
    TokenRecord,
    VerdictRecord,
)
from sqlgate.store.postgres import PostgresStore
from sqlgate.store.sqlite import SqliteStore

__all__ = [
    "ApprovalRecord",
    "AuditRecord",
    "CheckpointRecord",
    "ExecutionRecord",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "TokenRecord",
    "VerdictRecord",
    "open_store",
    "redact_url",
]


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def open_store(url: str, *, create: bool = True) -> Store:
    """Open (creating or upgrading the schema of) the store ``url`` names.

    With ``create=False`` a SQLite file that does not exist is an error rather than a
    new empty store (a verifier must not "verify" a typo as an empty, intact log).
    """
    parts = urlsplit(url)
    shown = redact_url(url)
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise ConfigError(f"store URL {shown!r}: use sqlite:///path (no host)")
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ConfigError(f"store URL {shown!r} names no file")
        if not create and path != ":memory:" and not Path(path).is_file():
            raise ConfigError(f"store {shown!r}: no such SQLite file")
        return SqliteStore(path)
    if parts.scheme in ("postgresql", "postgres"):
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = [value for key, value in query if key == "schema"]
        rest = [(key, value) for key, value in query if key != "schema"]
        dsn = urlunsplit(parts._replace(query=urlencode(rest)))
        return PostgresStore(dsn, schema=schema[-1] if schema else None)
    raise ConfigError(
        f"unsupported store URL {shown!r}: expected sqlite:///... or postgresql://..."
    )
