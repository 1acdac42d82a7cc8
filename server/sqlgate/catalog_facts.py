"""Facts that need the catalog: table sizes and whether a named column exists.

Computed in one ordered walk, like ``sqlgate.facts``, and merged into each statement's
``facts`` by the review: ``table_rows`` / ``table_bytes`` (the catalog's ANALYZE row
estimate and total size of the target table; null without a catalog, when the estimate
is unknown, or for a table the set created) and ``column_exists`` (for statements that
name an existing column: ALTER/DROP/RENAME COLUMN, SET/DROP DEFAULT and NOT NULL; null
when unknown). Columns are tracked through the set: CREATE TABLE, ADD, DROP and RENAME
COLUMN, RENAME and DROP TABLE. ``column_not_null`` (ALTER COLUMN TYPE, i.e. MySQL
MODIFY/CHANGE, and SET/DROP NOT NULL): whether the column was already NOT NULL before the
statement, from the catalog or earlier statements of the set; null when unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlgate import model as m
from sqlgate.facts import norm

_COLUMN_KINDS = (
    m.DropColumn,
    m.RenameColumn,
    m.AlterColumnType,
    m.SetNotNull,
    m.DropNotNull,
    m.SetDefault,
    m.DropDefault,
)


def _tables(catalog: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for t in (catalog or {}).get("tables") or ():
        if isinstance(t, Mapping):
            name = str(t.get("name", ""))
            schema = t.get("schema")
            out[norm(f"{schema}.{name}" if schema else name)] = t
    return out


def _targets(s: m.Statement) -> tuple[str, ...]:
    table = getattr(s, "table", None)
    if isinstance(table, str):
        return (norm(table),)
    if isinstance(s, (m.DropTable, m.Truncate)):
        return tuple(norm(t) for t in s.tables)
    return ()


def _size(tables: Sequence[Mapping[str, Any] | None]) -> tuple[int | None, int | None]:
    """Largest row estimate and size over the targets; None if any is unknown."""
    rows: list[int] = []
    sizes: list[int] = []
    for t in tables:
        if t is None:
            return None, None
        estimate, size = t.get("row_estimate"), t.get("size_bytes")
        if not isinstance(estimate, int) or estimate < 0 or not isinstance(size, int):
            return None, None
        rows.append(estimate)
        sizes.append(size)
    return (max(rows), max(sizes)) if rows else (None, None)


def catalog_facts(
    statements: Sequence[m.Statement],
    catalog: Mapping[str, Any] | None,
    context: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Per statement (same order), the extra facts to merge into its ``facts``.

    A table created by a ``context`` file (already applied) keeps the catalog's size."""
    cat = _tables(catalog)
    # Known columns per table; a table missing here has unknown columns.
    columns: dict[str, set[str]] = {
        name: {str(c.get("name")) for c in t.get("columns") or () if isinstance(c, Mapping)}
        for name, t in cat.items()
    }
    # Known NOT NULL state per table and column (missing: unknown).
    not_null: dict[str, dict[str, bool]] = {
        name: {
            str(c.get("name")): c.get("nullable") is False
            for c in t.get("columns") or ()
            if isinstance(c, Mapping) and isinstance(c.get("nullable"), bool)
        }
        for name, t in cat.items()
    }
    created: set[str] = set()
    out: list[dict[str, Any]] = []
    for s in statements:
        targets = _targets(s)
        rows = size = None
        if catalog is not None and targets and not any(t in created for t in targets):
            rows, size = _size([cat.get(t) for t in targets])
        facts: dict[str, Any] = {
            "table_rows": rows,
            "table_bytes": size,
            "column_exists": None,
            "column_not_null": None,
        }
        if isinstance(s, _COLUMN_KINDS) and catalog is not None:
            known = columns.get(norm(s.table))
            facts["column_exists"] = None if known is None else s.column in known
        if isinstance(s, (m.AlterColumnType, m.SetNotNull, m.DropNotNull)):
            facts["column_not_null"] = not_null.get(norm(s.table), {}).get(s.column)
        out.append(facts)
        _track(s, columns, created)
        _track_not_null(s, not_null)
        if s.file in context and isinstance(s, m.CreateTable):
            created.discard(norm(s.table))
    return out


def _track(s: m.Statement, columns: dict[str, set[str]], created: set[str]) -> None:
    if isinstance(s, m.CreateTable):
        table = norm(s.table)
        created.add(table)
        if s.as_select:  # columns come from the query: unknown
            columns.pop(table, None)
        else:
            columns[table] = {c.name for c in s.columns}
    elif isinstance(s, m.AddColumn) and norm(s.table) in columns:
        columns[norm(s.table)].add(s.column.name)
    elif isinstance(s, m.DropColumn) and norm(s.table) in columns:
        columns[norm(s.table)].discard(s.column)
    elif isinstance(s, m.RenameColumn) and norm(s.table) in columns:
        columns[norm(s.table)].discard(s.column)
        columns[norm(s.table)].add(s.new_name)
    elif isinstance(s, m.DropTable):
        for t in s.tables:
            columns.pop(norm(t), None)
            created.discard(norm(t))
    elif isinstance(s, m.RenameTable):
        old, new = norm(s.table), norm(s.new_name)
        if "." in old and "." not in new:
            new = f"{old.rsplit('.', 1)[0]}.{new}"
        if old in columns:
            columns[new] = columns.pop(old)
        if old in created:
            created.discard(old)
            created.add(new)


def _track_not_null(s: m.Statement, state: dict[str, dict[str, bool]]) -> None:
    """The NOT NULL state of columns after ``s`` (unknown columns stay missing)."""
    if isinstance(s, m.CreateTable):
        state[norm(s.table)] = (
            {} if s.as_select else {c.name: c.not_null or c.primary_key for c in s.columns}
        )
        return
    table = norm(getattr(s, "table", "") or "")
    cols = state.setdefault(table, {}) if table else {}
    if isinstance(s, m.AddColumn):
        cols[s.column.name] = s.column.not_null or s.column.primary_key
    elif isinstance(s, m.SetNotNull):
        cols[s.column] = True
    elif isinstance(s, m.DropNotNull):
        cols[s.column] = False
    elif isinstance(s, m.AlterColumnType) and s.definition is not None:
        cols.pop(s.column, None)
        cols[s.definition.name] = s.definition.not_null or s.definition.primary_key
    elif isinstance(s, m.DropColumn):
        cols.pop(s.column, None)
    elif isinstance(s, m.RenameColumn) and s.column in cols:
        cols[s.new_name] = cols.pop(s.column)
    elif isinstance(s, m.DropTable):
        for t in s.tables:
            state.pop(norm(t), None)
    elif isinstance(s, m.RenameTable) and table in state:
        new = norm(s.new_name)
        if "." in table and "." not in new:
            new = f"{table.rsplit('.', 1)[0]}.{new}"
        state[new] = state.pop(table)
