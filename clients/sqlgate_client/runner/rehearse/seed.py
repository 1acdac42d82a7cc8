"""Data for the scratch database, so that durations and lock times mean something.

Three sources, applied in this order: a SQL file (run with ``psql``), CSV files
(``TABLE=FILE``, loaded with COPY; the first line names the columns), and generated rows
(``--generate-rows N``: up to N rows in every table that is still empty). Generation
fills tables in foreign-key order with values derived from the row number; a column
with a default keeps it, a single-column foreign key takes a referenced key, and a
table whose columns or constraints cannot be satisfied this way is left empty and
named in the report (never a failed rehearsal: the seed is an approximation the
report states, with the resulting row counts and sizes).
"""

from __future__ import annotations

import csv
import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from sqlgate_client.runner.errors import ScratchFailed, UsageError

Connection = psycopg.Connection[tuple[object, ...]]

_TABLES = (
    "SELECT c.oid::bigint, c.oid::regclass::text FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
    " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname NOT LIKE 'pg_toast%'"
)
_COLUMNS = (
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typcategory::text,"
    " t.typtype::text, a.attnotnull, (d.adbin IS NOT NULL OR a.attidentity <> ''"
    " OR a.attgenerated <> ''), a.atttypid::regtype::text, a.atttypmod"
    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)
_FKS = (
    "SELECT k.conrelid::bigint, k.confrelid::bigint, a.attname, fa.attname,"
    " k.confrelid::regclass::text, cardinality(k.conkey)"
    " FROM pg_constraint k"
    " JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]"
    " JOIN pg_attribute fa ON fa.attrelid = k.confrelid AND fa.attnum = k.confkey[1]"
    " WHERE k.contype = 'f'"
)
_BY_TYPE = {
    "smallint": "(g % 32767)::smallint",
    "integer": "g::integer",
    "bigint": "g::bigint",
    "numeric": "(g % 1000)::numeric",
    "real": "g::real",
    "double precision": "g::double precision",
    "boolean": "g % 2 = 0",
    "text": "'r' || g",
    "character varying": "'r' || g",
    "character": "'r' || g",
    "date": "date '2020-01-01' + (g % 3650)",
    "timestamp without time zone": "timestamp '2020-01-01' + g * interval '1 second'",
    "timestamp with time zone": "timestamptz '2020-01-01 00:00Z' + g * interval '1 second'",
    "uuid": "md5(g::text)::uuid",
    "jsonb": "jsonb_build_object('n', g)",
    "json": "json_build_object('n', g)",
    "bytea": "decode(md5(g::text), 'hex')",
}


@dataclass
class SeedReport:
    sources: list[str] = field(default_factory=list)
    generated: dict[str, int] = field(default_factory=dict)
    not_generated: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())


def seed_sql(dsn: str, path: Path) -> None:
    done = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)],
        capture_output=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise ScratchFailed(f"seed {path} failed: {tail}")


def seed_csv(conn: Connection, spec: str) -> str:
    table, sep, file = spec.partition("=")
    if not sep or not table or not file:
        raise UsageError(f"--seed-csv {spec!r}: expected TABLE=FILE")
    path = Path(file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--seed-csv {spec!r}: cannot read {file}: {exc.strerror}") from exc
    target = sql.SQL(".").join(sql.Identifier(p) for p in table.split("."))
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig").split("\n", 1)[0])), [])
    if not header:
        raise UsageError(f"--seed-csv {spec!r}: the first line must name the columns")
    columns = sql.SQL(", ").join(sql.Identifier(c.strip()) for c in header)
    try:
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
                    target, columns
                )
            ) as copy,
        ):
            copy.write(data)
    except psycopg.Error as exc:
        raise ScratchFailed(f"--seed-csv {spec!r}: {exc}".strip()) from exc
    return f"csv {table} <- {file}"


def _expression(
    type_name: str, category: str, typtype: str, regtype: str, typmod: int
) -> str | None:
    base = type_name.split("(", maxsplit=1)[0]
    if typtype == "e":
        return f"(enum_range(NULL::{regtype}))[1]"
    expr = _BY_TYPE.get(base)
    if expr is None:
        return None
    if base in ("character varying", "character") and typmod > 4:
        return f"left({expr}, {typmod - 4})"
    if base == "numeric" and typmod > 4:
        precision = (typmod - 4) >> 16
        scale = (typmod - 4) & 0xFFFF
        limit = 10 ** max(precision - scale, 0)
        return f"((g % {limit}))::{type_name}" if limit > 1 else "0"
    return expr


def generate(conn: Connection, rows: int, *, skip: set[str], report: SeedReport) -> None:
    """Up to ``rows`` generated rows in every empty table (see module docstring)."""
    tables = {int(str(o)): str(n) for o, n in conn.execute(_TABLES).fetchall()}
    tables = {o: n for o, n in tables.items() if n not in skip}
    fks: dict[int, list[tuple[int, str, str, str, int]]] = {}
    for src, dst, col, fcol, fname, ncols in conn.execute(_FKS).fetchall():
        fks.setdefault(int(str(src)), []).append(
            (int(str(dst)), str(col), str(fcol), str(fname), int(str(ncols)))
        )
    done: set[int] = set()
    order: list[int] = []

    def visit(oid: int, path: tuple[int, ...]) -> None:
        if oid in done or oid in path or oid not in tables:
            return
        for dst, *_ in fks.get(oid, []):
            if dst != oid:
                visit(dst, (*path, oid))
        done.add(oid)
        order.append(oid)

    for oid in sorted(tables):
        visit(oid, ())
    for oid in order:
        name = tables[oid]
        has = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.SQL(name))
        ).fetchone()
        if has and has[0]:
            continue
        refs = {col: (fcol, fname, n) for _d, col, fcol, fname, n in fks.get(oid, [])}
        cols: list[sql.Composable] = []
        exprs: list[sql.Composable] = []
        why = ""
        for (
            col,
            type_name,
            category,
            typtype,
            notnull,
            has_default,
            regtype,
            typmod,
        ) in conn.execute(_COLUMNS, (oid,)).fetchall():
            if has_default:
                continue
            col_s = str(col)
            if col_s in refs:
                fcol, fname, n = refs[col_s]
                if n != 1:
                    why = f"multi-column foreign key on {col_s}"
                    break
                ref = sql.Identifier(fcol).as_string(conn)
                # Uncorrelated subqueries: PostgreSQL computes the key array once (InitPlan).
                expr: str | None = (
                    f"((SELECT array_agg(r.{ref} ORDER BY r.{ref}) FROM {fname} r))"
                    f"[1 + (g - 1) % greatest((SELECT count(*) FROM {fname}), 1)]"
                )
            else:
                expr = _expression(
                    str(type_name), str(category), str(typtype), str(regtype), int(str(typmod))
                )
            if expr is None:
                if notnull:
                    why = f"no generator for column {col_s} of type {type_name}"
                    break
                continue
            cols.append(sql.Identifier(col_s))
            exprs.append(sql.SQL(expr))
        if why:
            report.not_generated[name] = why
            continue
        insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM generate_series(1, {}) g").format(
            sql.SQL(name), sql.SQL(", ").join(cols), sql.SQL(", ").join(exprs), sql.Literal(rows)
        )
        if not cols:
            insert = sql.SQL("INSERT INTO {} SELECT FROM generate_series(1, {}) g").format(
                sql.SQL(name), sql.Literal(rows)
            )
        try:
            with conn.transaction():
                cur = conn.execute(insert)
            report.generated[name] = max(cur.rowcount, 0)
        except psycopg.Error as exc:
            report.not_generated[name] = (exc.diag.message_primary or str(exc)).strip()


def measure(conn: Connection, report: SeedReport, *, skip: set[str]) -> None:
    """ANALYZE, then the scratch's row counts and sizes (the data the figures stand for)."""
    conn.execute("ANALYZE")
    for _oid, name in conn.execute(_TABLES).fetchall():
        if str(name) in skip:
            continue
        row = conn.execute(
            sql.SQL("SELECT count(*), pg_total_relation_size({}::regclass) FROM {}").format(
                sql.Literal(str(name)), sql.SQL(str(name))
            )
        ).fetchone()
        if row is not None:
            report.rows[str(name)] = int(str(row[0]))
            report.bytes[str(name)] = int(str(row[1]))
