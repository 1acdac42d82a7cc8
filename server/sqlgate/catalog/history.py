"""The target's own migration history: which migrations its tool recorded as applied.

``sqlgate catalog`` adds ``history`` to the catalog: one entry per history table found,
``{"tool", "table", "applied": [version or name, ...]}``, plus ``"through": N`` for
golang-migrate, which records only the newest applied version (every numbered file up
to it is applied; a dirty version is not). The review treats matching files as context
(``sqlgate.context``). Tables are recognised by name and columns:

- sqlgate runner: ``schema_history`` with ``sha256`` and ``success`` (successful rows);
- Flyway: ``flyway_schema_history`` (successful versioned rows);
- golang-migrate: ``schema_migrations(version, dirty)``;
- dbmate: ``schema_migrations(version)`` without ``dirty``;
- goose: ``goose_db_version`` (the latest row per version says applied or not);
- sql-migrate: ``gorp_migrations(id)`` (file names);
- Prisma: ``_prisma_migrations`` (finished, not rolled back; migration directory names);
- Alembic: ``alembic_version(version_num)`` (the head revision).

All queries only read; a table that cannot be read is an error (the catalog fails
closed rather than silently reviewing applied files as pending or the reverse).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# (schema, table) -> lower-case column names.
Tables = Mapping[tuple[str, str], frozenset[str]]
Query = Callable[[str], Sequence[Sequence[Any]]]

HISTORY_TABLE_NAMES = (
    "schema_history",
    "flyway_schema_history",
    "schema_migrations",
    "goose_db_version",
    "gorp_migrations",
    "_prisma_migrations",
    "alembic_version",
)


def _tool(name: str, columns: frozenset[str]) -> str | None:
    if name == "schema_history" and {"version", "sha256", "success"} <= columns:
        return "sqlgate"
    if name == "flyway_schema_history" and {"version", "success"} <= columns:
        return "flyway"
    if name == "schema_migrations" and {"version", "dirty"} <= columns:
        return "golang-migrate"
    if name == "schema_migrations" and "version" in columns:
        return "dbmate"
    if name == "goose_db_version" and {"version_id", "is_applied", "id"} <= columns:
        return "goose"
    if name == "gorp_migrations" and "id" in columns:
        return "sql-migrate"
    if name == "_prisma_migrations" and {"migration_name", "finished_at"} <= columns:
        return "prisma"
    if name == "alembic_version" and "version_num" in columns:
        return "alembic"
    return None


def _sql(tool: str, table: str, columns: frozenset[str]) -> str:
    if tool in ("sqlgate", "flyway"):
        return f"SELECT version FROM {table} WHERE success AND version IS NOT NULL"
    if tool == "golang-migrate":
        return f"SELECT version, dirty FROM {table}"
    if tool == "dbmate":
        return f"SELECT version FROM {table}"
    if tool == "goose":
        return f"SELECT version_id, is_applied FROM {table} ORDER BY id"
    if tool == "sql-migrate":
        return f"SELECT id FROM {table}"
    if tool == "prisma":
        rolled = " AND rolled_back_at IS NULL" if "rolled_back_at" in columns else ""
        return f"SELECT migration_name FROM {table} WHERE finished_at IS NOT NULL{rolled}"
    return f"SELECT version_num FROM {table}"


def _entry(tool: str, table: str, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"tool": tool, "table": table, "applied": []}
    if tool == "golang-migrate":
        for version, dirty in rows:
            through = int(version) - 1 if dirty else int(version)
            entry["through"] = str(max(through, 0))
        return entry
    if tool == "goose":
        state: dict[str, bool] = {}
        for version, applied in rows:
            state[str(version)] = bool(applied)
        entry["applied"] = sorted((v for v, on in state.items() if on and v != "0"), key=_num)
        return entry
    entry["applied"] = sorted({str(r[0]) for r in rows if r[0] is not None}, key=_num)
    return entry


def _num(v: str) -> tuple[int, tuple[int, ...], str]:
    """Numeric versions in numeric order (1.1 before 1.10), then names."""
    parts = re.split(r"[._]", v)
    if all(p.isdigit() for p in parts):
        return (0, tuple(int(p) for p in parts), v)
    return (1, (), v)


def read_history(tables: Tables, query: Query, quote: Callable[[str], str]) -> list[dict[str, Any]]:
    """One entry per recognised history table among ``tables``, read with ``query``."""
    out = []
    for (schema, name), columns in sorted(tables.items()):
        tool = _tool(name, columns)
        if tool is None:
            continue
        qualified = f"{quote(schema)}.{quote(name)}"
        out.append(_entry(tool, f"{schema}.{name}", query(_sql(tool, qualified, columns))))
    return out
