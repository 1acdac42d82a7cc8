"""sqlgate.facts: per-statement facts and the indexes that exist after the set."""
# ruff: noqa: E501 - case tables read best one case per line

from __future__ import annotations

from typing import Any

import pytest
from sqlgate.facts import derive

from .helpers import parse

CATALOG = {
    "tables": [
        {"schema": "public", "name": "users", "indexes": [{"name": "users_pkey", "columns": ["id"], "unique": True}]},
        {"schema": "public", "name": "orders", "indexes": []},
        {"name": "ignored_bad_entry", "indexes": "not a list"},
    ]
}  # fmt: skip


def facts(sql: str, dialect: str = "postgres", catalog: Any = None) -> list[dict[str, Any]]:
    stmts = parse(sql, dialect).statements
    return [dict(s.facts) for s in derive(stmts, catalog=catalog, dialect=dialect).statements]


@pytest.mark.parametrize(
    ("sql", "lock"),
    [
        ("CREATE INDEX i ON t (a)", "SHARE"),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", "SHARE UPDATE EXCLUSIVE"),
        ("DROP INDEX i", "ACCESS EXCLUSIVE"),
        ("DROP INDEX CONCURRENTLY i", "SHARE UPDATE EXCLUSIVE"),
        ("ALTER TABLE t ADD COLUMN a int", "ACCESS EXCLUSIVE"),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id)", "SHARE ROW EXCLUSIVE"),
        ("ALTER TABLE t VALIDATE CONSTRAINT f", "SHARE UPDATE EXCLUSIVE"),
        ("ALTER TABLE t SET (fillfactor = 70)", "SHARE UPDATE EXCLUSIVE"),
        ("UPDATE t SET a = 1", "ROW EXCLUSIVE"),
        ("SELECT 1", "ACCESS SHARE"),
        ("CREATE TABLE t (a int)", None),
    ],
)
def test_lock_modes(sql: str, lock: str | None) -> None:
    assert facts(sql)[0]["lock"] == lock


def test_mysql_has_no_postgres_lock_modes() -> None:
    assert facts("ALTER TABLE t ADD COLUMN a INT", "mysql")[0]["lock"] is None


def test_table_created_in_set_only_after_creation() -> None:
    got = facts(
        "CREATE INDEX i0 ON t (a); CREATE TABLE public.t (a int); CREATE INDEX i1 ON t (a);"
        "DROP TABLE t; CREATE INDEX i2 ON t (a);"
    )
    assert [f["table_created_in_set"] for f in got] == [False, False, True, True, False]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SET lock_timeout = '2s'; ALTER TABLE t DROP COLUMN a", [False, True]),
        ("SET lock_timeout = 0; ALTER TABLE t DROP COLUMN a", [False, False]),
        ("SET lock_timeout = '2s'; RESET lock_timeout; DROP TABLE t", [False, True, False]),
        ("SET lock_timeout = '2s'; SET lock_timeout TO DEFAULT; DROP TABLE t", [False, True, False]),
        ("BEGIN; SET LOCAL lock_timeout = '1s'; DROP TABLE t; COMMIT; DROP TABLE u", [False, False, True, True, False]),
        ("SET statement_timeout = '2s'; DROP TABLE t", [False, False]),
    ],
)  # fmt: skip
def test_lock_timeout_set(sql: str, expected: list[bool]) -> None:
    assert [f["lock_timeout_set"] for f in facts(sql)] == expected


def test_table_exists_from_catalog_or_null() -> None:
    sql = "ALTER TABLE users ADD COLUMN a int; ALTER TABLE nope ADD COLUMN a int; SELECT 1"
    assert [f["table_exists"] for f in facts(sql)] == [None, None, None]
    assert [f["table_exists"] for f in facts(sql, catalog=CATALOG)] == [True, False, None]


def test_indexes_after_the_set() -> None:
    stmts = parse(
        "CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE, org int);"
        "CREATE INDEX acc_org ON accounts (org, id);"
        "CREATE INDEX orders_user ON orders (user_id);"
        "DROP INDEX orders_user;"
        "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref);"
        "ALTER TABLE users DROP CONSTRAINT users_pkey;"
    ).statements
    got = derive(stmts, catalog=CATALOG).to_json()
    assert got["tables_created"] == ["accounts"]
    assert sorted((i["name"], i["table"], tuple(i["columns"]), i["unique"], i["source"]) for i in got["indexes"]) == [
        ("acc_org", "accounts", ("org", "id"), False, "pending"),
        ("accounts_email_key", "accounts", ("email",), True, "pending"),
        ("accounts_pkey", "accounts", ("id",), True, "pending"),
        ("orders_ref_key", "orders", ("ref",), True, "pending"),
    ]  # fmt: skip


def test_catalog_indexes_kept_and_drop_table_removes_its_indexes() -> None:
    got = derive(parse("DROP TABLE orders").statements, catalog=CATALOG).to_json()
    assert [(i["name"], i["source"]) for i in got["indexes"]] == [("users_pkey", "catalog")]
    got = derive(parse("DROP TABLE users").statements, catalog=CATALOG).to_json()
    assert got["indexes"] == []


def test_mysql_foreign_key_gets_innodb_index() -> None:
    stmts = parse(
        "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)", "mysql"
    ).statements
    got = derive(stmts, catalog=CATALOG, dialect="mysql").to_json()
    assert ("orders", ["user_id"]) in [(i["table"], i["columns"]) for i in got["indexes"]]


def test_drop_index_targets_table_known_from_the_set() -> None:
    got = facts("CREATE TABLE t (a int); CREATE INDEX i ON t (a); DROP INDEX i")
    assert got[2]["table_created_in_set"] is True


def test_renames_keep_order_and_move_indexes() -> None:
    """Renames, drops and re-creations: order of ``tables_created`` and index tables."""
    stmts = parse(
        "CREATE TABLE a (id int PRIMARY KEY);"
        "CREATE TABLE b (id int);"
        "CREATE TABLE c (id int);"
        "CREATE INDEX c_id ON c (id);"
        "ALTER TABLE c RENAME TO a2;"  # c's place, its index follows
        "ALTER TABLE b RENAME TO a;"  # a already exists earlier: a keeps its place
        "DROP TABLE a2;"
        "CREATE TABLE c (id int);"  # re-created: now last
        "CREATE INDEX c_id ON c (id);"
        "ALTER TABLE users RENAME TO people;"  # a catalog table's index moves too
    ).statements
    got = derive(stmts, catalog=CATALOG).to_json()
    assert got["tables_created"] == ["a", "c"]
    assert [(i["name"], i["table"]) for i in got["indexes"]] == [
        ("users_pkey", "people"),
        ("a_pkey", "a"),
        ("c_id", "c"),
    ]
    dropped = facts(
        "CREATE TABLE t (a int); CREATE INDEX i ON t (a); ALTER TABLE t RENAME TO u; DROP INDEX i"
    )
    assert dropped[3]["table_created_in_set"] is True
