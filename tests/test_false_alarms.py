"""Issue 9 §4: fewer false alarms with the right defaults, each written several ways.
Real parser, facts and policies (embedded engine)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, ReviewResult, review

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    e = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    yield e
    e.close()


def _review(
    engine: EmbeddedEngine, *files: tuple[str, str], dialect: str = "postgres", **kw: Any
) -> ReviewResult:
    request = ReviewRequest(
        repo="",
        commit="",
        environment="production",
        target="t",
        dialect=dialect,
        migrations=[MigrationFile(p, sql.encode()) for p, sql in files],
        **kw,
    )
    return review(request, engine=engine)


def _at(result: ReviewResult, rule: str) -> list[tuple[str, int]]:
    return sorted((f.file, f.line) for f in result.findings if f.rule == rule)


def _column(name: str, type_: str, nullable: bool) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable, "default": None,
            "identity": None, "generated": None}  # fmt: skip


def _catalog(dialect: str, schema: str, tables: dict[str, list[dict[str, Any]]]) -> bytes:
    return json.dumps(
        {
            "version": 1,
            "dialect": dialect,
            "server_version": "10.11.6" if dialect == "mysql" else "16.2",
            "server_version_num": 101106 if dialect == "mysql" else 160002,
            "database": "app",
            "taken_at": "2026-01-01T00:00:00Z",
            "tables": [
                {
                    "schema": schema,
                    "name": t,
                    "kind": "table",
                    "row_estimate": 50000,
                    "size_bytes": 9_000_000,
                    "columns": cols,
                    "indexes": [],
                    "constraints": [],
                    "foreign_keys": [],
                }
                for t, cols in tables.items()
            ],
            "schemas": [schema],
            "extensions": [],
        }
    ).encode()


def test_timeouts_fire_once_per_file_at_the_first_statement_that_needs_them(
    engine: EmbeddedEngine,
) -> None:
    a = (
        "CREATE INDEX CONCURRENTLY i1 ON users (a);\n"  # weak lock: needs neither
        "ALTER TABLE users ADD COLUMN b int;\n"
        "ALTER TABLE orders ALTER COLUMN c TYPE bigint;\n"
        "DROP INDEX i0;\n"
    )
    b = "TRUNCATE audit;\nALTER TABLE users DROP COLUMN b;\n"
    result = _review(engine, ("db/V1__a.sql", a), ("db/V2__b.sql", b))
    for rule in ("lock-timeout-missing", "statement-timeout-missing"):
        assert _at(result, rule) == [("db/V1__a.sql", 2), ("db/V2__b.sql", 1)], rule
    # set in the file before: none
    c = "SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n" + a
    result = _review(engine, ("db/V1__a.sql", c))
    assert _at(result, "lock-timeout-missing") == []
    assert _at(result, "statement-timeout-missing") == []


def test_default_pg_version_is_the_newest_and_explicit_versions_win(
    engine: EmbeddedEngine,
) -> None:
    sql = "ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;\n"
    result = _review(engine, ("V1__a.sql", sql))
    assert _at(result, "add-column-default-rewrite") == []
    assert (result.server_version, result.server_version_source) == ("18", "default")
    for version in ("10", "10.23", "PostgreSQL 9.6"):
        old = _review(engine, ("V1__a.sql", sql), server_version=version)
        assert _at(old, "add-column-default-rewrite") == [("V1__a.sql", 1)], version
        assert old.server_version_source == "request"
    from_catalog = _review(
        engine, ("V1__a.sql", sql), catalog=_catalog("postgres", "public", {"users": []})
    )
    assert (from_catalog.server_version, from_catalog.server_version_source) == (
        "16.2",
        "catalog",
    )


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE t (id int, a int);\nCREATE INDEX t_a ON t (a);\nDROP INDEX t_a;\n",
        "create table app.t (id int primary key);\ndrop index app.t_pkey;\n",
        "CREATE TABLE t (id int);\nCREATE UNIQUE INDEX t_u ON t (id);\nDROP INDEX IF EXISTS t_u;\n",
    ],
)
def test_drop_index_on_a_table_created_in_the_set_is_quiet(
    engine: EmbeddedEngine, sql: str
) -> None:
    assert _at(_review(engine, ("V1__a.sql", sql)), "drop-index-not-concurrent") == []


def test_drop_index_on_an_existing_or_unknown_table_still_fires(engine: EmbeddedEngine) -> None:
    for sql in ("DROP INDEX users_email_idx;\n", "CREATE INDEX CONCURRENTLY x ON users (a);\n"
                "DROP INDEX x;\n"):  # fmt: skip
        assert _at(_review(engine, ("V1__a.sql", sql)), "drop-index-not-concurrent"), sql


def test_create_index_on_only_parent_is_not_index_not_concurrent(engine: EmbeddedEngine) -> None:
    for sql in (
        "CREATE INDEX events_at ON ONLY events (at);\n",
        "create unique index if not exists e_u on only public.events using btree (id, at);\n",
    ):
        assert _at(_review(engine, ("V1__a.sql", sql)), "index-not-concurrent") == [], sql
    plain = "CREATE INDEX events_at ON events (at);\n"
    assert _at(_review(engine, ("V1__a.sql", plain)), "index-not-concurrent") == [("V1__a.sql", 1)]


def test_mysql_modify_restating_not_null(engine: EmbeddedEngine) -> None:
    catalog = _catalog(
        "mysql",
        "app",
        {"users": [_column("email", "varchar(255)", False), _column("nick", "varchar(40)", True)]},
    )
    quiet = (
        "ALTER TABLE users MODIFY email varchar(320) NOT NULL;\n",
        "ALTER TABLE users CHANGE email email varchar(320) NOT NULL;\n",
        "alter table `users` modify column `email` varchar(320) not null default '';\n",
    )
    for sql in quiet:
        result = _review(engine, ("V1__a.sql", sql), dialect="mysql", catalog=catalog)
        assert _at(result, "modify-not-null") == [], sql
        assert _at(result, "table-not-found") == [], sql
    loud = "ALTER TABLE users MODIFY nick varchar(40) NOT NULL;\n"
    result = _review(engine, ("V1__a.sql", loud), dialect="mysql", catalog=catalog)
    assert _at(result, "modify-not-null") == [("V1__a.sql", 1)]
    # no catalog: unknown unless the set made it NOT NULL earlier
    assert _at(_review(engine, ("V1__a.sql", quiet[0]), dialect="mysql"), "modify-not-null")
    in_set = "ALTER TABLE users ADD COLUMN code char(3) NOT NULL DEFAULT 'x';\n" \
        "ALTER TABLE users MODIFY code char(4) NOT NULL DEFAULT 'x';\n"  # fmt: skip
    assert _at(_review(engine, ("V1__a.sql", in_set), dialect="mysql"), "modify-not-null") == []


def test_mysql_catalog_resolves_unqualified_names_in_the_default_schema(
    engine: EmbeddedEngine,
) -> None:
    catalog = _catalog("mysql", "app", {"users": [_column("id", "bigint", False)]})
    ok = _review(
        engine, ("V1__a.sql", "ALTER TABLE users ADD COLUMN note text;\n"), dialect="mysql",
        catalog=catalog,
    )  # fmt: skip
    assert _at(ok, "table-not-found") == []
    missing = _review(
        engine, ("V1__a.sql", "ALTER TABLE nope ADD COLUMN note text;\n"), dialect="mysql",
        catalog=catalog,
    )  # fmt: skip
    assert _at(missing, "table-not-found") == [("V1__a.sql", 1)]


def test_identifier_too_long(engine: EmbeddedEngine) -> None:
    e32 = "\u00e9" * 32  # 32 characters, 64 bytes: PostgreSQL truncates it
    loud = (
        f'CREATE TABLE "{e32}" (id bigint PRIMARY KEY);\n',
        f"ALTER TABLE users ADD COLUMN {'a' * 64} int;\n",
        f'CREATE INDEX CONCURRENTLY "{"x" * 70}" ON users (id);\n',
    )
    for sql in loud:
        assert _at(_review(engine, ("V1__a.sql", sql)), "identifier-too-long"), sql
    quiet = f"CREATE TABLE {'a' * 63} (id bigint PRIMARY KEY, note text DEFAULT '{'b' * 90}');\n"
    assert _at(_review(engine, ("V1__a.sql", quiet)), "identifier-too-long") == []
    # a reference is truncated alike and finds the object: not reported
    for ref in (f"DROP INDEX {'i' * 70};\n", f'ALTER TABLE "{e32}" DROP COLUMN b;\n'):
        assert _at(_review(engine, ("V1__a.sql", ref)), "identifier-too-long") == [], ref
    e = "\u00e9"
    mysql_long = f"CREATE TABLE `{e * 65}` (id bigint PRIMARY KEY);\n"
    result = _review(engine, ("V1__a.sql", mysql_long), dialect="mysql")
    assert _at(result, "identifier-too-long") == [("V1__a.sql", 1)]
    mysql_ok = f"CREATE TABLE `{e * 64}` (id bigint PRIMARY KEY);\n"
    assert (
        _at(_review(engine, ("V1__a.sql", mysql_ok), dialect="mysql"), "identifier-too-long") == []
    )


def test_transaction_control_that_does_not_match_the_executor(engine: EmbeddedEngine) -> None:
    rule = "transaction-control-mismatch"
    quiet = (
        "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
        "start transaction;\ncreate table a (id int);\nend;\n",
        "CREATE TABLE a (id int);\n",
        "-- +goose NO TRANSACTION\n-- +goose Up\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
    )
    for sql in quiet:
        assert _at(_review(engine, ("V1__a.sql", sql)), rule) == [], sql
    loud = (
        ("CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n", [2]),
        ("CREATE TABLE a (id int);\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n", [2]),
        ("BEGIN;\nSAVEPOINT s;\nCREATE TABLE a (id int);\nROLLBACK TO s;\nCOMMIT;\n", [2, 4]),
        ("-- +goose Up\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n", [2, 4]),  # goose wraps
    )
    for sql, lines in loud:
        got = _at(_review(engine, ("V1__a.sql", sql)), rule)
        assert [line for _, line in got] == lines, sql
