"""A comparable picture of a database's schema, and the readable diff of two of them.

One line per object, keyed by kind and qualified name: relations (kind), columns
(type, default, nullability, identity, generated), indexes (their definition),
constraints (their definition), sequences (type, start, increment, bounds, cycle),
triggers, views (definition) and enum labels. Two snapshots are equal exactly when
the rollback restored every one of these. System schemas and the runner's own
history tables are left out.
"""

from __future__ import annotations

from collections.abc import Collection

import psycopg

Connection = psycopg.Connection[tuple[object, ...]]
Snapshot = dict[str, str]

_USER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
    " AND n.nspname NOT LIKE 'pg_temp%'"
)
_QUERIES = {
    "relation": (
        "SELECT format('%I.%I', n.nspname, c.relname), c.oid::regclass::text, c.relkind::text"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND {_USER}"
    ),
    "column": (
        "SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname), c.oid::regclass::text,"
        " concat_ws(' ', format_type(a.atttypid, a.atttypmod),"
        "  CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,"
        "  'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid),"
        "  CASE a.attidentity WHEN 'a' THEN 'IDENTITY ALWAYS' WHEN 'd' THEN 'IDENTITY BY DEFAULT'"
        "  END, CASE WHEN a.attgenerated = 's' THEN 'GENERATED' END)"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        f" WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        f" AND {_USER}"
    ),
    "index": (
        "SELECT format('%I.%I', n.nspname, c.relname), i.indrelid::regclass::text,"
        " pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER}"
    ),
    "constraint": (
        "SELECT format('%I.%I', n.nspname, k.conname) || ' ON ' || k.conrelid::regclass::text,"
        " k.conrelid::regclass::text, pg_get_constraintdef(k.oid)"
        " || CASE WHEN k.convalidated THEN '' ELSE ' NOT VALID' END"
        " FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace"
        f" WHERE k.conrelid <> 0 AND {_USER}"
    ),
    "sequence": (
        "SELECT format('%I.%I', n.nspname, c.relname), c.oid::regclass::text,"
        " format('%s start %s increment %s min %s max %s%s', format_type(s.seqtypid, NULL),"
        "  s.seqstart, s.seqincrement, s.seqmin, s.seqmax,"
        "  CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END)"
        " FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid"
        f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_USER}"
    ),
    "trigger": (
        "SELECT format('%I', t.tgname) || ' ON ' || t.tgrelid::regclass::text,"
        " t.tgrelid::regclass::text, pg_get_triggerdef(t.oid)"
        " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND {_USER}"
    ),
    "view": (
        "SELECT format('%I.%I', n.nspname, c.relname), c.oid::regclass::text,"
        " pg_get_viewdef(c.oid)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        f" WHERE c.relkind IN ('v', 'm') AND {_USER}"
    ),
    "enum": (
        "SELECT format('%I.%I', n.nspname, t.typname), '',"
        " string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)"
        " FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid"
        f" JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {_USER}"
        " GROUP BY n.nspname, t.typname"
    ),
}


def snapshot(conn: Connection, *, exclude: Collection[str] = ()) -> Snapshot:
    """The schema as ``{"column public.orders.total": "numeric NOT NULL DEFAULT 0", ...}``.

    ``exclude`` names relations (``schema.table`` as regclass text) whose own objects
    are left out: the runner's history tables.
    """
    skip = {_regclass(conn, name) for name in exclude} - {None}
    out: Snapshot = {}
    for kind, query in _QUERIES.items():
        for key, owner, text in conn.execute(query).fetchall():
            if str(key) in skip or str(owner) in skip:
                continue
            out[f"{kind} {key}"] = str(text)
    return out


def _regclass(conn: Connection, name: str) -> str | None:
    row = conn.execute("SELECT to_regclass(%s)::text", (name,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """Readable differences, one line each: ``- removed``, ``+ added``, ``~ changed``."""
    lines: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if new is None:
            lines.append(f"- {key}: {old}")
        elif old is None:
            lines.append(f"+ {key}: {new}")
        else:
            lines.append(f"~ {key}: {old} -> {new}")
    return lines
