"""Read a PostgreSQL schema from pg_catalog inside a read-only transaction.

Every query runs in one REPEATABLE READ, READ ONLY transaction with a statement and
a lock timeout, so the snapshot is consistent, nothing can be written, and a busy
server makes the read fail instead of queueing forever. ``search_path`` is emptied
so names in types, defaults and expressions come out schema-qualified, whatever the
role's own search_path is. Needs PostgreSQL 12 or later (pg_partition_tree).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from sqlgate.catalog.history import HISTORY_TABLE_NAMES, read_history
from sqlgate.errors import CatalogError

Row = tuple[Any, ...]
PgConnection = psycopg.Connection[Row]

# Schemas starting with pg_ are reserved for the system (pg_catalog, pg_toast, temp).
_USER_SCHEMA = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"

_KINDS = {
    "r": "table",
    "p": "partitioned",
    "v": "view",
    "m": "materialized_view",
    "f": "foreign_table",
}
_FK_ACTIONS = {
    "a": "no_action",
    "r": "restrict",
    "c": "cascade",
    "n": "set_null",
    "d": "set_default",
}
_CONSTRAINT_TYPES = {"c": "check", "u": "unique", "p": "primary_key", "x": "exclude"}
_IDENTITY = {"a": "always", "d": "by_default"}
_GENERATED = {"s": "stored", "v": "virtual"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def read_only_session(dsn: str, *, timeout_s: float = 30.0) -> Iterator[PgConnection]:
    """Yield a connection inside a READ ONLY transaction; it is rolled back on exit."""
    try:
        conn = psycopg.connect(dsn, connect_timeout=max(1, int(timeout_s)), autocommit=False)
    except psycopg.Error as exc:
        raise CatalogError(f"cannot connect to PostgreSQL: {_first_line(exc)}") from exc
    try:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(
            "SELECT pg_catalog.set_config('statement_timeout', %s, true)",
            (f"{int(timeout_s * 1000)}ms",),
        )
        lock_ms = int(min(timeout_s, 5.0) * 1000)
        conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true)", (f"{lock_ms}ms",))
        conn.execute("SELECT pg_catalog.set_config('search_path', '', true)")
        yield conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def read_postgres(dsn: str, *, timeout_s: float = 30.0) -> dict[str, Any]:
    """Return the catalog body (everything but ``version`` and ``taken_at``)."""
    try:
        with read_only_session(dsn, timeout_s=timeout_s) as conn:
            return _read(conn)
    except psycopg.Error as exc:
        raise CatalogError(f"reading the PostgreSQL catalog failed: {_first_line(exc)}") from exc


def _read(conn: PgConnection) -> dict[str, Any]:
    database, version_text, version_num = _one(
        conn,
        "SELECT pg_catalog.current_database(), pg_catalog.current_setting('server_version'),"
        " pg_catalog.current_setting('server_version_num')::int",
    )
    tables = _tables(conn)
    oids = list(tables)
    for oid, columns in _columns(conn, oids).items():
        tables[oid]["columns"] = columns
    for oid, indexes in _indexes(conn, oids).items():
        tables[oid]["indexes"] = sorted(indexes, key=lambda i: i["name"])
    for oid, (constraints, fks) in _constraints(conn, oids).items():
        tables[oid]["constraints"] = sorted(constraints, key=lambda c: c["name"])
        tables[oid]["foreign_keys"] = sorted(fks, key=lambda c: c["name"])
    schemas = [
        r[0]
        for r in conn.execute(
            f"SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE {_USER_SCHEMA}"
        ).fetchall()
    ]
    extensions = [
        {"name": name, "version": version, "schema": schema}
        for name, version, schema in conn.execute(
            "SELECT e.extname, e.extversion, n.nspname FROM pg_catalog.pg_extension e"
            " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
        ).fetchall()
    ]
    return {
        "dialect": "postgres",
        "server_version": _short_version(version_text),
        "server_version_num": int(version_num),
        "database": database,
        "tables": sorted(tables.values(), key=lambda t: (t["schema"], t["name"])),
        "schemas": sorted(schemas),
        "extensions": sorted(extensions, key=lambda e: (e["name"], e["schema"])),
        "history": _history(conn),
    }


def _history(conn: PgConnection) -> list[dict[str, Any]]:
    """Migration tools' history tables in user schemas (sqlgate.catalog.history)."""
    found = conn.execute(
        "SELECT n.nspname, c.relname, pg_catalog.array_agg(pg_catalog.lower(a.attname::text))"
        " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
        " AND NOT a.attisdropped"
        f" WHERE c.relkind IN ('r', 'p') AND {_USER_SCHEMA} AND c.relname = ANY(%s)"
        " GROUP BY n.nspname, c.relname",
        (list(HISTORY_TABLE_NAMES),),
    ).fetchall()
    tables = {(str(r[0]), str(r[1])): frozenset(r[2]) for r in found}
    return read_history(
        tables,
        lambda query: conn.execute(query.encode()).fetchall(),
        lambda name: '"' + name.replace('"', '""') + '"',
    )


def _one(conn: PgConnection, query: str) -> Row:
    row = conn.execute(query).fetchone()
    if row is None:
        raise CatalogError(f"catalog query returned no row: {query[:60]}")
    return row


def _short_version(text: str) -> str:
    """'15.20 (Debian 15.20-0+deb12u1)' -> '15.20'."""
    match = re.match(r"\d+(\.\d+)*", text.strip())
    return match.group(0) if match else text.strip()


def _tables(conn: PgConnection) -> dict[int, dict[str, Any]]:
    rows = conn.execute(
        f"""
        SELECT c.oid, n.nspname, c.relname, c.relkind,
          CASE WHEN c.relkind = 'p' THEN
                 (SELECT pg_catalog.sum(r.reltuples) FROM pg_catalog.pg_partition_tree(c.oid) t
                    JOIN pg_catalog.pg_class r ON r.oid = t.relid
                   WHERE t.isleaf AND r.reltuples >= 0)
               WHEN c.relkind IN ('r', 'm') AND c.reltuples >= 0 THEN c.reltuples
          END::float8,
          CASE WHEN c.relkind = 'p' THEN
                 (SELECT pg_catalog.sum(pg_catalog.pg_total_relation_size(t.relid))
                    FROM pg_catalog.pg_partition_tree(c.oid) t WHERE t.isleaf)
               WHEN c.relkind IN ('r', 'm') THEN pg_catalog.pg_total_relation_size(c.oid)
          END::int8,
          (SELECT pn.nspname || '.' || pc.relname FROM pg_catalog.pg_inherits i
             JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
             JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
            WHERE c.relispartition AND i.inhrelid = c.oid)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER_SCHEMA}
        """
    ).fetchall()
    return {
        oid: {
            "schema": schema,
            "name": name,
            "kind": _KINDS[kind],
            "partition_of": parent,
            "row_estimate": -1 if estimate is None else round(estimate),
            "size_bytes": 0 if size is None else int(size),
            "columns": [],
            "indexes": [],
            "constraints": [],
            "foreign_keys": [],
        }
        for oid, schema, name, kind, estimate, size, parent in rows
    }


def _columns(conn: PgConnection, oids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = conn.execute(
        """
        SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
               NOT a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid, true),
               a.attidentity, a.attgenerated
        FROM pg_catalog.pg_attribute a
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = ANY(%s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attrelid, a.attnum
        """,
        (oids,),
    ).fetchall()
    out: dict[int, list[dict[str, Any]]] = {}
    for relid, name, type_, nullable, expr, identity, generated in rows:
        kind = _GENERATED.get(generated)
        out.setdefault(relid, []).append(
            {
                "name": name,
                "type": type_,
                "nullable": bool(nullable),
                "default": None if kind else expr,
                "identity": _IDENTITY.get(identity),
                "generated": {"kind": kind, "expression": expr} if kind else None,
            }
        )
    return out


def _indexes(conn: PgConnection, oids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = conn.execute(
        """
        SELECT i.indrelid, ic.relname, i.indnkeyatts, i.indisunique, i.indisprimary,
               pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
               i.indisvalid AND i.indisready AND i.indislive, am.amname,
               pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
               ARRAY(SELECT CASE WHEN i.indkey[k - 1] <> 0
                                 THEN (SELECT a.attname::text FROM pg_catalog.pg_attribute a
                                        WHERE a.attrelid = i.indrelid
                                          AND a.attnum = i.indkey[k - 1])
                                 ELSE pg_catalog.pg_get_indexdef(i.indexrelid, k, true) END
                       FROM pg_catalog.generate_series(1, i.indnatts::int) k ORDER BY k)
        FROM pg_catalog.pg_index i
        JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_catalog.pg_am am ON am.oid = ic.relam
        WHERE i.indrelid = ANY(%s::oid[])
        """,
        (oids,),
    ).fetchall()
    out: dict[int, list[dict[str, Any]]] = {}
    for relid, name, nkey, unique, primary, pred, valid, method, definition, cols in rows:
        out.setdefault(relid, []).append(
            {
                "name": name,
                "columns": list(cols[:nkey]),
                "include": list(cols[nkey:]),
                "unique": bool(unique),
                "primary": bool(primary),
                "partial": pred is not None,
                "predicate": pred,
                "valid": bool(valid),
                "method": method,
                "definition": definition,
            }
        )
    return out


def _constraints(
    conn: PgConnection, oids: list[int]
) -> dict[int, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    rows = conn.execute(
        """
        SELECT c.conrelid, c.conname, c.contype, c.convalidated,
               pg_catalog.pg_get_constraintdef(c.oid, true),
               ARRAY(SELECT a.attname FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, o)
                       JOIN pg_catalog.pg_attribute a
                         ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),
               rn.nspname || '.' || rc.relname,
               ARRAY(SELECT a.attname FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, o)
                       JOIN pg_catalog.pg_attribute a
                         ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o),
               c.confdeltype, c.confupdtype
        FROM pg_catalog.pg_constraint c
        LEFT JOIN pg_catalog.pg_class rc ON rc.oid = c.confrelid
        LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE c.conrelid = ANY(%s::oid[]) AND c.contype IN ('c', 'u', 'p', 'x', 'f')
        """,
        (oids,),
    ).fetchall()
    out: dict[int, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for relid, name, ctype, validated, definition, cols, ref, ref_cols, on_del, on_upd in rows:
        constraints, fks = out.setdefault(relid, ([], []))
        if ctype == "f":
            fks.append(
                {
                    "name": name,
                    "columns": list(cols),
                    "ref_table": ref,
                    "ref_columns": list(ref_cols),
                    "validated": bool(validated),
                    "on_delete": _FK_ACTIONS[on_del],
                    "on_update": _FK_ACTIONS[on_upd],
                    "definition": definition,
                }
            )
        else:
            constraints.append(
                {
                    "name": name,
                    "type": _CONSTRAINT_TYPES[ctype],
                    "columns": list(cols),
                    "validated": bool(validated),
                    "definition": definition,
                }
            )
    return out
