"""Locking, maintenance and metadata statements real migrations contain (additive kinds).

Each was ``unknown`` before (an approval for every VACUUM); modelled, the lock ones feed
the lock facts (``sqlgate.facts``) and so the locking rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Statement


@dataclass(frozen=True, kw_only=True)
class LockTable(Statement):
    """LOCK [TABLE] ... IN <mode> MODE: ``mode`` as PostgreSQL names it (ACCESS EXCLUSIVE
    when none is written)."""

    kind = "lock_table"
    tables: tuple[str, ...]
    mode: str
    nowait: bool = False


@dataclass(frozen=True, kw_only=True)
class Vacuum(Statement):
    """VACUUM [FULL] [ANALYZE]; ``tables`` empty = every table of the database."""

    kind = "vacuum"
    tables: tuple[str, ...]
    full: bool = False
    analyze: bool = False


@dataclass(frozen=True, kw_only=True)
class Analyze(Statement):
    """ANALYZE; ``tables`` empty = every table of the database."""

    kind = "analyze"
    tables: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Cluster(Statement):
    """CLUSTER: rewrites the table in index order under ACCESS EXCLUSIVE."""

    kind = "cluster"
    table: str | None
    index_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefreshMaterializedView(Statement):
    """REFRESH MATERIALIZED VIEW [CONCURRENTLY]; ``table`` is the view."""

    kind = "refresh_materialized_view"
    table: str
    concurrently: bool = False
    with_data: bool = True


@dataclass(frozen=True, kw_only=True)
class SecurityLabel(Statement):
    kind = "security_label"
    object_type: str
    provider: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlterDefaultPrivileges(Statement):
    """ALTER DEFAULT PRIVILEGES: GRANT/REVOKE on objects created later."""

    kind = "alter_default_privileges"
    is_grant: bool
    privileges: tuple[str, ...]
    object_type: str
    grantees: tuple[str, ...]
    schemas: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
