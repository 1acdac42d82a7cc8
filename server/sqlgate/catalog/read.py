"""Dispatch a DSN to the right reader and wrap the result in the versioned envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlgate.catalog.dsn import dialect_of
from sqlgate.catalog.load import CATALOG_VERSION, validate_catalog

DEFAULT_TIMEOUT_S = 30.0


def read_catalog(dsn: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
    """Read the live schema behind ``dsn`` (PostgreSQL or MySQL/MariaDB), read-only.

    The result is validated against the version-1 shape before it is returned, so a
    reader bug cannot hand policies a catalog that ``load_catalog`` would refuse.
    """
    if dialect_of(dsn) == "postgres":
        from sqlgate.catalog.postgres import read_postgres

        body = read_postgres(dsn, timeout_s=timeout_s)
    else:
        from sqlgate.catalog.mysql import read_mysql

        body = read_mysql(dsn, timeout_s=timeout_s)
    taken_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    doc = {"version": CATALOG_VERSION, "taken_at": taken_at, **body}
    return validate_catalog(doc, source="live catalog")


def dumps_catalog(doc: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
