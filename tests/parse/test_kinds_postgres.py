"""PostgreSQL: every kind of the contract is built with the fields policies read."""
# ruff: noqa: E501 - the case table reads best one case per line

from __future__ import annotations

from typing import Any

import pytest

from .helpers import kinds, one, parse

CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "CREATE TABLE IF NOT EXISTS app.Users (id bigserial PRIMARY KEY, "
        "org_id int NOT NULL REFERENCES orgs (id) ON DELETE CASCADE, email text UNIQUE, "
        "created timestamptz DEFAULT now())",
        {"kind": "create_table", "table": "app.users", "if_not_exists": True, "temporary": False},
    ),
    ("CREATE TEMP TABLE t AS SELECT 1", {"kind": "create_table", "temporary": True, "as_select": True}),
    ("DROP TABLE IF EXISTS a, b CASCADE", {"kind": "drop_table", "tables": ["a", "b"], "if_exists": True, "cascade": True}),
    ("ALTER TABLE t RENAME TO u", {"kind": "rename_table", "table": "t", "new_name": "u"}),
    ('ALTER TABLE t DROP COLUMN IF EXISTS "Old" CASCADE', {"kind": "drop_column", "column": "Old", "if_exists": True, "cascade": True}),
    ("ALTER TABLE t RENAME COLUMN a TO b", {"kind": "rename_column", "table": "t", "column": "a", "new_name": "b"}),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint", {"kind": "alter_column_type", "column": "a", "type": "bigint", "using": "CAST(a AS bigint)"}),
    ("ALTER TABLE t ALTER a SET NOT NULL", {"kind": "set_not_null", "column": "a"}),
    ("ALTER TABLE t ALTER a DROP NOT NULL", {"kind": "drop_not_null", "column": "a"}),
    ("ALTER TABLE t ALTER a SET DEFAULT gen_random_uuid()", {"kind": "set_default", "default": "gen_random_uuid()", "default_volatile": True}),
    ("ALTER TABLE t ALTER a SET DEFAULT now()", {"kind": "set_default", "default_volatile": False}),
    ("ALTER TABLE t ALTER a DROP DEFAULT", {"kind": "drop_default", "column": "a"}),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", {"kind": "add_constraint", "name": "c", "constraint_type": "check", "not_valid": True}),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a, b)", {"kind": "add_constraint", "constraint_type": "unique", "columns": ["a", "b"]}),
    ("ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX ix", {"kind": "add_constraint", "constraint_type": "primary_key", "using_index": "ix"}),
    (
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o) REFERENCES s.orgs (id) ON DELETE SET NULL NOT VALID",
        {"kind": "add_foreign_key", "name": "fk", "columns": ["o"], "ref_table": "s.orgs", "ref_columns": ["id"], "not_valid": True, "on_delete": "set null"},
    ),
    ("ALTER TABLE t DROP CONSTRAINT c", {"kind": "drop_constraint", "table": "t", "name": "c"}),
    ("ALTER TABLE t VALIDATE CONSTRAINT c", {"kind": "validate_constraint", "name": "c"}),
    ("ALTER TABLE t RENAME CONSTRAINT a TO b", {"kind": "rename_constraint", "name": "a", "new_name": "b"}),
    (
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ix ON t (a, lower(b)) WHERE a > 0",
        {"kind": "create_index", "name": "ix", "table": "t", "columns": ["a", "lower(b)"], "unique": True, "concurrently": True, "if_not_exists": True, "partial": True},
    ),
    ("DROP INDEX CONCURRENTLY IF EXISTS ix", {"kind": "drop_index", "names": ["ix"], "concurrently": True, "if_exists": True}),
    ("REINDEX INDEX CONCURRENTLY ix", {"kind": "reindex", "target": "index", "name": "ix", "concurrently": True}),
    ("TRUNCATE a, b", {"kind": "truncate", "tables": ["a", "b"]}),
    ("UPDATE t SET a = 1 WHERE id = 2", {"kind": "update", "table": "t", "has_where": True, "batch": None}),
    ("DELETE FROM s.t", {"kind": "delete", "table": "s.t", "has_where": False}),
    ("INSERT INTO t (a) VALUES (1)", {"kind": "insert", "table": "t", "from_select": False}),
    ("INSERT INTO t SELECT * FROM u", {"kind": "insert", "from_select": True}),
    ("COPY t FROM PROGRAM 'curl x'", {"kind": "copy", "table": "t", "direction": "from", "program": True, "opaque": True}),
    ("SET LOCAL lock_timeout = '5s'", {"kind": "set", "name": "lock_timeout", "value": "5s", "local": True}),
    ("RESET statement_timeout", {"kind": "set", "name": "statement_timeout", "value": None}),
    ("START TRANSACTION", {"kind": "transaction", "action": "begin"}),
    ("SAVEPOINT s", {"kind": "transaction", "action": "savepoint"}),
    (
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN 1; END $$",
        {"kind": "create_function", "name": "f", "language": "plpgsql", "security_definer": True},
    ),
    ("DO LANGUAGE plpython3u $$ plpy.execute(1) $$", {"kind": "do_block", "language": "plpython3u", "opaque": True}),
    ("CALL p(1)", {"kind": "call", "name": "p", "opaque": True}),
    ("GRANT SELECT, INSERT ON t TO app, PUBLIC", {"kind": "grant", "privileges": ["select", "insert"], "objects": ["t"], "grantees": ["app", "public"]}),
    ("REVOKE ALL ON t FROM app", {"kind": "revoke", "privileges": ["all"], "grantees": ["app"]}),
    ("CREATE SCHEMA IF NOT EXISTS s", {"kind": "create_schema", "name": "s"}),
    ("DROP SCHEMA s CASCADE", {"kind": "drop_schema", "names": ["s"], "cascade": True}),
    ("DROP DATABASE prod", {"kind": "drop_database", "name": "prod"}),
    ("CREATE MATERIALIZED VIEW v AS SELECT 1", {"kind": "create_view", "name": "v", "materialized": True}),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", {"kind": "create_view", "materialized": False}),
    ("DROP MATERIALIZED VIEW v", {"kind": "drop_view", "names": ["v"], "materialized": True}),
    ("CREATE EXTENSION IF NOT EXISTS pgcrypto", {"kind": "create_extension", "name": "pgcrypto"}),
    ("DROP EXTENSION pgcrypto", {"kind": "drop_extension", "name": "pgcrypto"}),
    ("ALTER TYPE mood ADD VALUE 'meh'", {"kind": "alter_type_add_value", "type": "mood", "value": "meh"}),
    ("SELECT 1", {"kind": "select"}),
    ("CREATE SEQUENCE s", {"kind": "create_sequence", "name": "s"}),
    ("CREATE TYPE mood AS ENUM ('a')", {"kind": "create_type", "name": "mood", "type_kind": "enum"}),
    ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", {"kind": "create_trigger", "name": "tr", "table": "t"}),
    ("COMMENT ON TABLE t IS 'x'", {"kind": "comment", "object_type": "table"}),
    ("DROP SEQUENCE IF EXISTS s", {"kind": "drop_object", "object_type": "sequence", "names": ["s"]}),
    ("ALTER TABLE t OWNER TO bob", {"kind": "alter_table_other", "subtype": "AT_ChangeOwner"}),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[c[1]["kind"] for c in CASES])
def test_kind_fields(sql: str, expected: dict[str, Any]) -> None:
    got = one(sql)
    assert {k: got.get(k) for k in expected} == expected
    assert got["text"] == sql
    assert got["position"] == {"line": 1, "column": 1, "end_line": 1}


def test_create_table_columns_fks_and_implicit_constraints() -> None:
    got = one(
        "CREATE TABLE users (id bigserial PRIMARY KEY, org_id int NOT NULL REFERENCES orgs (id) "
        "ON DELETE CASCADE, email text UNIQUE, created timestamptz DEFAULT now(), "
        "CONSTRAINT fk2 FOREIGN KEY (email) REFERENCES mails (addr))"
    )
    cols = {c["name"]: c for c in got["columns"]}
    assert cols["id"]["primary_key"] and cols["id"]["not_null"] and cols["id"]["default_volatile"]
    assert cols["org_id"] == {
        "name": "org_id", "type": "integer", "not_null": True, "default": None,
        "default_volatile": False, "primary_key": False, "unique": False,
    }  # fmt: skip
    assert cols["created"]["default"] == "now()" and not cols["created"]["default_volatile"]
    assert got["foreign_keys"] == [
        {"name": None, "columns": ["org_id"], "ref_table": "orgs", "ref_columns": ["id"], "not_valid": False, "on_delete": "cascade"},
        {"name": "fk2", "columns": ["email"], "ref_table": "mails", "ref_columns": ["addr"], "not_valid": False, "on_delete": "no action"},
    ]  # fmt: skip
    assert [(c["constraint_type"], c["columns"]) for c in got["constraints"]] == [
        ("primary_key", ["id"]),
        ("unique", ["email"]),
    ]


def test_add_column_carries_column_and_fk() -> None:
    got = one("ALTER TABLE t ADD COLUMN o int NOT NULL REFERENCES orgs (id)")
    assert got["kind"] == "add_column"
    assert got["column"]["name"] == "o" and got["column"]["not_null"]
    assert got["column"]["default"] is None
    assert got["foreign_key"]["ref_table"] == "orgs"


@pytest.mark.parametrize(
    ("default", "volatile"),
    [("random()", True), ("uuid_generate_v4()", True), ("clock_timestamp()", True),
     ("nextval('s')", True), ("now()", False), ("CURRENT_TIMESTAMP", False), ("0", False),
     ("(random() * 10)::int", True)],
)  # fmt: skip
def test_volatile_defaults(default: str, volatile: bool) -> None:
    got = one(f"ALTER TABLE t ADD COLUMN a int DEFAULT {default}")
    assert got["column"]["default_volatile"] is volatile


def test_alter_table_one_statement_per_action() -> None:
    r = parse("ALTER TABLE t ADD COLUMN a int, DROP COLUMN b, ALTER c SET NOT NULL;\nSELECT 1;")
    assert r.statement_count == 2
    assert kinds(r.statements) == ["add_column", "drop_column", "set_not_null", "select"]
    first = [s.to_json() for s in r.statements[:3]]
    assert [s["action"] for s in first] == [0, 1, 2]
    assert {s["text"] for s in first} == {
        "ALTER TABLE t ADD COLUMN a int, DROP COLUMN b, ALTER c SET NOT NULL"
    }
    assert [s.index for s in r.statements] == [0, 1, 2, 3]


def test_quoted_identifiers_keep_case_unquoted_are_lowered() -> None:
    assert one('DROP TABLE "Mixed", Plain')["tables"] == ["Mixed", "plain"]


def test_in_transaction_and_batch_directive() -> None:
    r = parse(
        "UPDATE t SET a = 1;\nBEGIN;\n-- sqlgate:batch key=id size=500 pause=2s\n"
        "UPDATE t SET a = 2;\nCOMMIT;\nDELETE FROM t;"
    )
    js = [s.to_json() for s in r.statements]
    assert [s["in_transaction"] for s in js] == [False, False, True, False, False]
    assert js[2]["batch"] == {"key": "id", "size": 500, "pause_ms": 2000}
    assert js[0]["batch"] is None and js[4]["batch"] is None
