"""Read a MySQL/MariaDB schema from information_schema inside a read-only transaction.

The session runs ``START TRANSACTION READ ONLY`` with a per-statement time limit
(``max_statement_time`` on MariaDB, ``max_execution_time`` on MySQL) and a socket read
timeout, and reads only the one database the DSN names. MySQL has no partial, INCLUDE
or invalid indexes and does not record NOT VALID foreign keys, so those fields are
constant (``partial: false``, ``valid: true``, ``validated: true`` unless MySQL 8 says
a CHECK is NOT ENFORCED).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pymysql
import pymysql.cursors

from sqlgate.catalog.dsn import parse_mysql_url
from sqlgate.catalog.history import HISTORY_TABLE_NAMES, read_history
from sqlgate.errors import CatalogError

if TYPE_CHECKING:  # the runtime class is not generic; the stubs' is
    MyConnection = pymysql.connections.Connection[pymysql.cursors.DictCursor]
Record = dict[str, Any]

_SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
_KINDS = {"BASE TABLE": "table", "SYSTEM VERSIONED": "table", "VIEW": "view"}
_FK_ACTIONS = {
    "NO ACTION": "no_action",
    "RESTRICT": "restrict",
    "CASCADE": "cascade",
    "SET NULL": "set_null",
    "SET DEFAULT": "set_default",
}
_CONSTRAINT_TYPES = {"PRIMARY KEY": "primary_key", "UNIQUE": "unique", "CHECK": "check"}


def _message(exc: BaseException) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2:
        return f"({args[0]}) {args[1]}"
    return str(exc).strip() or type(exc).__name__


@contextmanager
def read_only_session(dsn: str, *, timeout_s: float = 30.0) -> Iterator[MyConnection]:
    """Yield a connection inside a READ ONLY transaction on the DSN's database."""
    target = parse_mysql_url(dsn)
    if target.database is None:
        raise CatalogError("MySQL DSN must name a database: mysql://user:pass@host:port/db")
    try:
        conn: MyConnection = pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            database=target.database,
            connect_timeout=max(1, int(timeout_s)),
            read_timeout=max(1, int(timeout_s)),
            autocommit=True,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
        )
    except pymysql.MySQLError as exc:
        raise CatalogError(f"cannot connect to MySQL: {_message(exc)}") from exc
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION() AS v")
            version = str(_fetch_one(cur)["v"])
            if "mariadb" in version.lower():
                cur.execute("SET SESSION max_statement_time = %s", (float(timeout_s),))
            else:
                cur.execute("SET SESSION max_execution_time = %s", (int(timeout_s * 1000),))
            cur.execute("START TRANSACTION READ ONLY")
        yield conn
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def read_mysql(dsn: str, *, timeout_s: float = 30.0) -> dict[str, Any]:
    """Return the catalog body (everything but ``version`` and ``taken_at``)."""
    try:
        with read_only_session(dsn, timeout_s=timeout_s) as conn, conn.cursor() as cur:
            return _read(cur)
    except pymysql.MySQLError as exc:
        raise CatalogError(f"reading the MySQL catalog failed: {_message(exc)}") from exc


def _fetch_one(cur: pymysql.cursors.DictCursor) -> Record:
    row = cur.fetchone()
    if row is None:
        raise CatalogError("catalog query returned no row")
    return row


def _rows(cur: pymysql.cursors.DictCursor, query: str, *params: Any) -> list[Record]:
    cur.execute(query, params or None)
    return list(cur.fetchall())


def _read(cur: pymysql.cursors.DictCursor) -> dict[str, Any]:
    cur.execute("SELECT DATABASE() AS db, VERSION() AS v")
    row = _fetch_one(cur)
    db, version_text = str(row["db"]), str(row["v"])
    if db in _SYSTEM_SCHEMAS:
        raise CatalogError(f"refusing to read the system database {db!r}")
    flavor = "mariadb" if "mariadb" in version_text.lower() else "mysql"
    tables = _tables(cur, db)
    for (schema, name), columns in _columns(cur, db).items():
        if (schema, name) in tables:
            tables[schema, name]["columns"] = columns
    for key, indexes in _indexes(cur, db).items():
        if key in tables:
            tables[key]["indexes"] = sorted(indexes, key=lambda i: i["name"])
    for key, constraints in _constraints(cur, db, flavor).items():
        if key in tables:
            tables[key]["constraints"] = sorted(constraints, key=lambda c: c["name"])
    for key, fks in _foreign_keys(cur, db).items():
        if key in tables:
            tables[key]["foreign_keys"] = sorted(fks, key=lambda c: c["name"])
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", version_text)
    if match is None:
        raise CatalogError(f"unrecognised server version {version_text!r}")
    major, minor, patch = (int(g) for g in match.groups())
    return {
        "dialect": "mysql",
        "flavor": flavor,
        "server_version": match.group(0),
        "server_version_num": major * 10000 + minor * 100 + patch,
        "database": db,
        "tables": [tables[k] for k in sorted(tables)],
        "schemas": [db],
        "extensions": [],
        "history": _history(cur, db),
    }


def _history(cur: pymysql.cursors.DictCursor, db: str) -> list[dict[str, Any]]:
    """Migration tools' history tables in the database (sqlgate.catalog.history)."""
    names = list(HISTORY_TABLE_NAMES)
    marks = ", ".join(["%s"] * len(names))
    tables: dict[tuple[str, str], frozenset[str]] = {}
    for r in _rows(
        cur,
        "SELECT TABLE_NAME AS t, LOWER(COLUMN_NAME) AS c FROM information_schema.COLUMNS"
        f" WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks})",
        db,
        *names,
    ):
        key = (db, str(r["t"]))
        tables[key] = tables.get(key, frozenset()) | {str(r["c"])}

    def query(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in _rows(cur, sql)]

    return read_history(tables, query, lambda name: "`" + name.replace("`", "``") + "`")


def _tables(cur: pymysql.cursors.DictCursor, db: str) -> dict[tuple[str, str], Record]:
    partitioned = {
        (r["s"], r["t"])
        for r in _rows(
            cur,
            "SELECT DISTINCT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.PARTITIONS"
            " WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL",
            db,
        )
    }
    out: dict[tuple[str, str], Record] = {}
    for r in _rows(
        cur,
        "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_TYPE AS kind, TABLE_ROWS AS n,"
        " DATA_LENGTH AS d, INDEX_LENGTH AS i FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = %s",
        db,
    ):
        kind = _KINDS.get(str(r["kind"]))
        if kind is None:
            continue  # MariaDB sequences and anything else that is not a table or view
        key = (str(r["s"]), str(r["t"]))
        if kind == "table" and key in partitioned:
            kind = "partitioned"
        is_view = kind == "view"
        out[key] = {
            "schema": key[0],
            "name": key[1],
            "kind": kind,
            "partition_of": None,
            "row_estimate": -1 if is_view or r["n"] is None else int(r["n"]),
            "size_bytes": 0 if is_view else int(r["d"] or 0) + int(r["i"] or 0),
            "columns": [],
            "indexes": [],
            "constraints": [],
            "foreign_keys": [],
        }
    return out


def _columns(cur: pymysql.cursors.DictCursor, db: str) -> dict[tuple[str, str], list[Record]]:
    out: dict[tuple[str, str], list[Record]] = {}
    for r in _rows(
        cur,
        "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS name, COLUMN_TYPE AS type,"
        " IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra,"
        " GENERATION_EXPRESSION AS gen FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        db,
    ):
        extra = str(r["extra"] or "").upper()
        generated = None
        if "GENERATED" in extra and r["gen"]:
            kind = "virtual" if "VIRTUAL" in extra else "stored"
            generated = {"kind": kind, "expression": str(r["gen"])}
        default = r["dflt"]
        if default is not None:
            default = str(default)
            if default.upper() == "NULL":  # MariaDB spells "no default" as the text NULL
                default = None
        out.setdefault((str(r["s"]), str(r["t"])), []).append(
            {
                "name": str(r["name"]),
                "type": str(r["type"]),
                "nullable": str(r["nullable"]).upper() == "YES",
                "default": None if generated else default,
                "identity": "auto_increment" if "AUTO_INCREMENT" in extra else None,
                "generated": generated,
            }
        )
    return out


def _indexes(cur: pymysql.cursors.DictCursor, db: str) -> dict[tuple[str, str], list[Record]]:
    # SELECT *: MySQL 8 adds EXPRESSION (functional key parts) that MariaDB lacks.
    rows = _rows(
        cur,
        "SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s"
        " ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        db,
    )
    grouped: dict[tuple[str, str, str], list[Record]] = {}
    for r in rows:
        key = (str(r["TABLE_SCHEMA"]), str(r["TABLE_NAME"]), str(r["INDEX_NAME"]))
        grouped.setdefault(key, []).append(r)
    out: dict[tuple[str, str], list[Record]] = {}
    for (schema, table, name), parts in grouped.items():
        columns: list[str] = []
        shown: list[str] = []
        for part in parts:
            column = part.get("COLUMN_NAME")
            text = str(column) if column is not None else f"({part.get('EXPRESSION')})"
            columns.append(text)
            sub = part.get("SUB_PART")
            shown.append(f"{text}({sub})" if sub is not None else text)
        first = parts[0]
        unique = int(first["NON_UNIQUE"]) == 0
        primary = name == "PRIMARY"
        method = str(first["INDEX_TYPE"]).lower()
        label = "PRIMARY KEY" if primary else ("UNIQUE INDEX " if unique else "INDEX ") + name
        out.setdefault((schema, table), []).append(
            {
                "name": name,
                "columns": columns,
                "include": [],
                "unique": unique,
                "primary": primary,
                "partial": False,
                "predicate": None,
                "valid": True,
                "method": method,
                "definition": f"{label} ON {schema}.{table} USING {method} ({', '.join(shown)})",
            }
        )
    return out


def _constraints(
    cur: pymysql.cursors.DictCursor, db: str, flavor: str
) -> dict[tuple[str, str], list[Record]]:
    key_columns: dict[tuple[str, str, str], list[str]] = {}
    for r in _rows(
        cur,
        "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, CONSTRAINT_NAME AS c, COLUMN_NAME AS col"
        " FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = %s"
        " ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
        db,
    ):
        key_columns.setdefault((str(r["s"]), str(r["t"]), str(r["c"])), []).append(str(r["col"]))
    # MariaDB scopes CHECK names per table and has CHECK_CONSTRAINTS.TABLE_NAME and LEVEL;
    # MySQL 8 scopes them per schema and records ENFORCED in TABLE_CONSTRAINTS.
    if flavor == "mariadb":
        checks = _rows(
            cur,
            "SELECT tc.TABLE_SCHEMA AS s, tc.TABLE_NAME AS t, tc.CONSTRAINT_NAME AS c,"
            " tc.CONSTRAINT_TYPE AS type, cc.CHECK_CLAUSE AS clause, cc.LEVEL AS level,"
            " 'YES' AS enforced FROM information_schema.TABLE_CONSTRAINTS tc"
            " LEFT JOIN information_schema.CHECK_CONSTRAINTS cc"
            "   ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.TABLE_NAME = tc.TABLE_NAME"
            "  AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'"
            " WHERE tc.TABLE_SCHEMA = %s",
            db,
        )
    else:
        checks = _rows(
            cur,
            "SELECT tc.TABLE_SCHEMA AS s, tc.TABLE_NAME AS t, tc.CONSTRAINT_NAME AS c,"
            " tc.CONSTRAINT_TYPE AS type, cc.CHECK_CLAUSE AS clause, NULL AS level,"
            " tc.ENFORCED AS enforced FROM information_schema.TABLE_CONSTRAINTS tc"
            " LEFT JOIN information_schema.CHECK_CONSTRAINTS cc"
            "   ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA"
            "  AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'"
            " WHERE tc.TABLE_SCHEMA = %s",
            db,
        )
    out: dict[tuple[str, str], list[Record]] = {}
    for r in checks:
        ctype = _CONSTRAINT_TYPES.get(str(r["type"]))
        if ctype is None:
            continue  # FOREIGN KEY: reported under foreign_keys
        schema, table, name = str(r["s"]), str(r["t"]), str(r["c"])
        if ctype == "check":
            columns = [name] if str(r["level"] or "").lower() == "column" else []
            definition = f"CHECK ({r['clause']})"
        else:
            columns = key_columns.get((schema, table, name), [])
            label = "PRIMARY KEY" if ctype == "primary_key" else "UNIQUE"
            definition = f"{label} ({', '.join(columns)})"
        out.setdefault((schema, table), []).append(
            {
                "name": name,
                "type": ctype,
                "columns": columns,
                "validated": str(r["enforced"] or "YES").upper() == "YES",
                "definition": definition,
            }
        )
    return out


def _foreign_keys(cur: pymysql.cursors.DictCursor, db: str) -> dict[tuple[str, str], list[Record]]:
    rows = _rows(
        cur,
        "SELECT k.TABLE_SCHEMA AS s, k.TABLE_NAME AS t, k.CONSTRAINT_NAME AS c,"
        " k.COLUMN_NAME AS col, k.REFERENCED_TABLE_SCHEMA AS rs,"
        " k.REFERENCED_TABLE_NAME AS rt, k.REFERENCED_COLUMN_NAME AS rc,"
        " r.DELETE_RULE AS del, r.UPDATE_RULE AS upd"
        " FROM information_schema.KEY_COLUMN_USAGE k"
        " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
        "   ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME"
        "  AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
        " WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL"
        " ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        db,
    )
    grouped: dict[tuple[str, str, str], Record] = {}
    for r in rows:
        key = (str(r["s"]), str(r["t"]), str(r["c"]))
        fk = grouped.setdefault(
            key,
            {
                "name": key[2],
                "columns": [],
                "ref_table": f"{r['rs']}.{r['rt']}",
                "ref_columns": [],
                "validated": True,
                "on_delete": _rule(str(r["del"])),
                "on_update": _rule(str(r["upd"])),
                "definition": "",
            },
        )
        fk["columns"].append(str(r["col"]))
        fk["ref_columns"].append(str(r["rc"]))
    out: dict[tuple[str, str], list[Record]] = {}
    for (schema, table, _), fk in grouped.items():
        fk["definition"] = (
            f"FOREIGN KEY ({', '.join(fk['columns'])}) REFERENCES {fk['ref_table']}"
            f"({', '.join(fk['ref_columns'])}) ON DELETE {_rule_text(fk['on_delete'])}"
            f" ON UPDATE {_rule_text(fk['on_update'])}"
        )
        out.setdefault((schema, table), []).append(fk)
    return out


def _rule(text: str) -> str:
    rule = _FK_ACTIONS.get(text.upper())
    if rule is None:
        raise CatalogError(f"unrecognised foreign-key rule {text!r}")
    return rule


def _rule_text(rule: str) -> str:
    return rule.replace("_", " ").upper()
