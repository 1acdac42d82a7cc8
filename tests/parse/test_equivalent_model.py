"""The model behind "equivalent SQL must not slip past the gates" (issue 8, issue 9 §3).

End-to-end verdicts are in tests/integration/test_equivalent_sql.py; these pin the model
and facts each one rests on: constant folding, nested DML, procedural bodies with their
positions, set-level inlining, settings, IF NOT EXISTS / search_path, the new kinds.
"""

from __future__ import annotations

from typing import Any

import pytest
from pglast import parse_sql
from sqlgate.facts import derive
from sqlgate.model import Statement
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.parse.pgconst import always_true


def parse(*files: str, dialect: str = "postgres") -> list[Statement]:
    sources = [SourceFile(f"V{i + 1}__f.sql", sql.encode()) for i, sql in enumerate(files)]
    return parse_migrations(sources, dialect).statements  # type: ignore[arg-type]


def docs(*files: str) -> list[dict[str, Any]]:
    return [s.to_json() for s in derive(parse(*files)).statements]


@pytest.mark.parametrize(
    "predicate",
    ["true", "1 = 1", "'a' = 'a'", "NOT false", "x IS NOT NULL OR true", "1 < 2", "2 >= 2",
     "NULL IS NULL", "'t'::boolean", "1 + 1 = 2", "EXISTS (SELECT 1)", "(SELECT true)",
     "1 IN (1, 2)", "NOT (1 = 2)", "coalesce(NULL, true)", "true IS TRUE", "x = x",
     "x IS NOT DISTINCT FROM x", "2 BETWEEN 1 AND 3", "'1'::int = 1", "-1 < 0",
     "CASE WHEN 1 = 1 THEN true END", "'a' || 'b' = 'ab'", "(1 = 1) = true", "0.5 < 1.5"],
)  # fmt: skip
def test_constant_true_predicates_fold(predicate: str) -> None:
    where = parse_sql(f"DELETE FROM t WHERE {predicate}")[0].stmt.whereClause
    assert always_true(where)


@pytest.mark.parametrize(
    "predicate",
    ["x = 1", "false", "1 = 2", "1 = 1 AND x = 2", "f(1)", "random() < 2", "x IS NULL",
     "NULL = NULL", "EXISTS (SELECT 1 FROM t2)", "(SELECT true FROM t2)", "x = y", "NOT true",
     "'abc' = 'abd'", "1 IN (2, 3)"],
)  # fmt: skip
def test_real_predicates_do_not_fold(predicate: str) -> None:
    where = parse_sql(f"DELETE FROM t WHERE {predicate}")[0].stmt.whereClause
    assert not always_true(where)


def test_data_modifying_ctes_are_their_dml_at_the_statement() -> None:
    sql = (
        "WITH a AS (UPDATE t SET x = 1 WHERE id = 2 RETURNING id),\n"
        "     b AS (DELETE FROM u RETURNING id)\n"
        "INSERT INTO log SELECT id FROM a UNION ALL SELECT id FROM b;"
    )
    got = docs(sql)
    assert [(d["kind"], d["table"], d.get("has_where"), d["via"]) for d in got] == [
        ("insert", "log", None, None),
        ("update", "t", True, "cte"),
        ("delete", "u", False, "cte"),
    ]
    assert {d["line"] for d in got} == {1}


def test_do_block_statements_have_their_own_positions() -> None:
    sql = "SELECT 1;\nDO $$\nBEGIN\n  IF true THEN\n    DELETE FROM t;\n  END IF;\nEND $$;\n"
    do, delete = parse(sql)[1:]
    assert (do.kind, do.opaque) == ("do_block", False)
    assert (delete.kind, delete.line, delete.col, delete.via) == ("delete", 5, 5, "do")


def test_function_body_is_reviewed_at_each_call_not_at_definition() -> None:
    define = "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$\n  TRUNCATE t;\n$$;\n"
    alone = parse(define)
    assert [s.kind for s in alone] == ["create_function"]
    called = parse(define, "SELECT f();\nSELECT 2;\nSELECT public.F();\n")
    kinds = [(s.kind, s.file, s.line, s.via) for s in called]
    assert kinds == [
        ("create_function", "V1__f.sql", 1, None),
        ("select", "V2__f.sql", 1, None),
        ("truncate", "V1__f.sql", 2, "function f"),
        ("select", "V2__f.sql", 2, None),
        ("select", "V2__f.sql", 3, None),
        ("truncate", "V1__f.sql", 2, "function f"),
    ]
    assert [s.index for s in called] == list(range(len(called)))


def test_call_of_a_defined_procedure_is_no_longer_opaque_but_others_are() -> None:
    got = parse(
        "CREATE PROCEDURE p() LANGUAGE sql AS 'DELETE FROM t WHERE id = 1';\nCALL p();\nCALL q();"
    )
    calls = [(s.kind, s.opaque) for s in got if s.kind in ("call", "delete")]
    assert calls == [("call", False), ("delete", False), ("call", True)]


def test_recursion_and_unreadable_bodies_fail_closed() -> None:
    rec = parse(
        "CREATE FUNCTION r() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN r(); END $$;\n"
        "SELECT r();"
    )
    assert any(s.kind == "unknown" and "recursive" in s.to_json()["reason"] for s in rec)
    c_lang = parse("CREATE FUNCTION c() RETURNS int LANGUAGE c AS 'lib', 'sym';\nSELECT c();")
    assert c_lang[-1].kind == "unknown" and c_lang[-1].opaque


def test_dynamic_sql_is_unknown_and_constant_execute_is_read() -> None:
    got = parse(
        "DO $$ DECLARE t text := 'x'; BEGIN\n"
        "  EXECUTE 'DROP TABLE ' || t;\n"
        "  EXECUTE 'DROP ' || 'TABLE y';\n"
        "  EXECUTE $q$TRUNCATE z$q$;\n"
        "  COMMIT;\n"
        "END $$;"
    )
    assert [s.kind for s in got] == ["do_block", "unknown", "drop_table", "truncate", "unknown"]
    assert "dynamic SQL" in got[1].to_json()["reason"]
    assert "transaction control" in got[4].to_json()["reason"]


def test_settings_in_every_form_are_set_statements() -> None:
    got = docs(
        "SELECT set_config('search_path', 'x', true);\n"
        "ALTER DATABASE d SET standard_conforming_strings = off;\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET lock_timeout = 0 AS 'SELECT 1';\n"
        "SELECT set_config(current_setting('a'), 'v', false);\n"
    )
    sets = [(d["name"], d["value"], d["local"], d["scope"], d["via"]) for d in got
            if d["kind"] == "set"]  # fmt: skip
    assert sets == [
        ("search_path", "x", True, "session", "set_config"),
        ("standard_conforming_strings", "off", False, "database", None),
        ("lock_timeout", "0", False, "function", None),
        ("?", "v", False, "session", "set_config"),
    ]


def test_function_set_clause_is_not_the_session_setting() -> None:
    got = docs(
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET lock_timeout = '1s' AS 'SELECT 1';\n"
        "ALTER TABLE users ADD COLUMN c int;\n"
    )
    assert got[-1]["facts"]["lock_timeout_set"] is False


def _created(*files: str, catalog: dict[str, Any] | None = None) -> list[bool]:
    out = derive(parse(*files), catalog=catalog).statements
    return [s.facts["table_created_in_set"] for s in out if s.kind == "create_index"]


def test_if_not_exists_means_may_already_exist() -> None:
    plain = "CREATE TABLE users (id int);\nCREATE INDEX i ON users (id);"
    maybe = "CREATE TABLE IF NOT EXISTS users (id int);\nCREATE INDEX i ON users (id);"
    assert _created(plain) == [True]
    assert _created(maybe) == [False]
    assert _created(maybe, catalog={"tables": [{"schema": "public", "name": "users"}]}) == [False]
    assert _created(maybe, catalog={"tables": [{"schema": "public", "name": "other"}]}) == [True]


def test_if_not_exists_index_does_not_count_as_covering_without_proof() -> None:
    sql = (
        "CREATE INDEX IF NOT EXISTS orders_user_idx ON orders (user_id);\n"
        "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) "
        "NOT VALID;\n"
    )
    names = [i.name for i in derive(parse(sql)).indexes]
    assert "orders_user_idx" not in names
    fresh = "CREATE TABLE orders (user_id int);\n" + sql
    assert "orders_user_idx" in [i.name for i in derive(parse(fresh)).indexes]


@pytest.mark.parametrize(
    ("setup", "created"),
    [
        ("", True),
        ("SET search_path = staging;\n", True),  # created and used under the same path
        ("SET search_path = staging;\nSELECT 1;\n", True),
    ],
)
def test_search_path_resolution_same_path(setup: str, created: bool) -> None:
    assert _created(setup + "CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);") == [created]


@pytest.mark.parametrize(
    "switch",
    [
        "SET search_path = public;",
        "RESET search_path;",
        "SET search_path TO DEFAULT;",
        "SELECT set_config('search_path', 'public', false);",
        "SET search_path = other, staging;",
        'SET search_path = "$user", staging;',
        "SELECT set_config('search_path', current_setting('x'), false);",
    ],
)
def test_search_path_switch_after_create_means_existing(switch: str) -> None:
    sql = (
        f"SET search_path = staging;\nCREATE TABLE t (id int);\n{switch}\nCREATE INDEX i ON t (id);"
    )
    assert _created(sql) == [False]


def test_set_local_search_path_ends_with_the_transaction() -> None:
    sql = (
        "CREATE TABLE t (id int);\nBEGIN;\nSET LOCAL search_path = other;\n"
        "CREATE INDEX a ON t (id);\nCOMMIT;\nCREATE INDEX b ON t (id);"
    )
    assert _created(sql) == [False, True]


def test_lock_and_maintenance_kinds_feed_the_lock_facts() -> None:
    got = docs(
        "LOCK TABLE a, b IN SHARE ROW EXCLUSIVE MODE NOWAIT;\nLOCK accounts;\n"
        "VACUUM FULL t;\nVACUUM (ANALYZE) t;\nANALYZE t;\nCLUSTER t USING i;\n"
        "REFRESH MATERIALIZED VIEW CONCURRENTLY v;\nREFRESH MATERIALIZED VIEW v WITH NO DATA;\n"
        "SECURITY LABEL FOR anon ON COLUMN t.c IS 'MASKED';\n"
        "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO r;\n"
    )
    assert [(d["kind"], d["facts"]["lock"]) for d in got] == [
        ("lock_table", "SHARE ROW EXCLUSIVE"),
        ("lock_table", "ACCESS EXCLUSIVE"),
        ("vacuum", "ACCESS EXCLUSIVE"),
        ("vacuum", "SHARE UPDATE EXCLUSIVE"),
        ("analyze", "SHARE UPDATE EXCLUSIVE"),
        ("cluster", "ACCESS EXCLUSIVE"),
        ("refresh_materialized_view", "EXCLUSIVE"),
        ("refresh_materialized_view", "ACCESS EXCLUSIVE"),
        ("security_label", None),
        ("alter_default_privileges", None),
    ]
    assert got[0]["tables"] == ["a", "b"] and got[0]["nowait"] is True
    assert got[7]["with_data"] is False
    assert (got[9]["privileges"], got[9]["schemas"], got[9]["grantees"]) == (
        ["select"], ["s"], ["r"]
    )  # fmt: skip


def test_mysql_call_stays_opaque() -> None:
    got = parse("CALL add_index();", dialect="mysql")
    assert (got[0].kind, got[0].opaque) == ("call", True)


def test_sql_standard_return_body_is_read() -> None:
    got = parse(
        "CREATE FUNCTION r() RETURNS int LANGUAGE sql RETURN pg_terminate_backend(1)::int;\n"
        "SELECT r();"
    )
    assert [(s.kind, s.via, s.functions) for s in got][-1] == (
        "select", "function r", ("pg_terminate_backend",)
    )  # fmt: skip


def test_trigger_function_body_is_reviewed_at_create_trigger() -> None:
    got = parse(
        "CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE stats SET n = n + 1; RETURN NEW; END $$;\n"
        "CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION tf();"
    )
    assert [(s.kind, s.via) for s in got][1:] == [
        ("create_trigger", None),
        ("update", "trigger tr: function tf"),
    ]
