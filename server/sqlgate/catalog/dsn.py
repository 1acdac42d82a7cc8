"""Recognise a DSN's dialect and turn MySQL URLs into connection arguments.

Error messages never repeat the DSN itself: it may carry a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from sqlgate.errors import CatalogError

Dialect = Literal["postgres", "mysql"]

_PG_SCHEMES = ("postgresql", "postgres")
_MYSQL_SCHEMES = ("mysql", "mariadb")


@dataclass(frozen=True)
class MySQLTarget:
    """Where and as whom to connect to a MySQL/MariaDB server."""

    host: str
    port: int
    user: str
    password: str
    database: str | None


def dialect_of(dsn: str) -> Dialect:
    """Return the dialect a DSN addresses; an unrecognised form is refused."""
    text = dsn.strip()
    if not text:
        raise CatalogError("empty DSN")
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme in _PG_SCHEMES:
            return "postgres"
        if scheme in _MYSQL_SCHEMES:
            return "mysql"
        raise CatalogError(
            f"unsupported DSN scheme {scheme!r}: use postgresql://, postgres://, mysql:// "
            "or a libpq key=value string"
        )
    if "=" in text:
        return "postgres"  # libpq key=value conninfo
    raise CatalogError(
        "unrecognised DSN: use postgresql://, postgres://, mysql:// or libpq key=value"
    )


def parse_mysql_url(dsn: str) -> MySQLTarget:
    """Parse ``mysql://user:pass@host:port/db``; query parameters are not supported."""
    parts = urlsplit(dsn.strip())
    if parts.scheme.lower() not in _MYSQL_SCHEMES:
        raise CatalogError(f"not a MySQL DSN (scheme {parts.scheme!r})")
    if parts.query or parts.fragment:
        raise CatalogError("MySQL DSN: query parameters and fragments are not supported")
    try:
        port = parts.port or 3306
    except ValueError as exc:
        raise CatalogError("MySQL DSN: the port is not a number in 1-65535") from exc
    path = unquote(parts.path.lstrip("/"))
    if "/" in path:
        raise CatalogError("MySQL DSN: the path must be a single database name")
    return MySQLTarget(
        host=parts.hostname or "localhost",
        port=port,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=path or None,
    )
