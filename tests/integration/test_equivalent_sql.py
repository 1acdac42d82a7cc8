"""Equivalent SQL must not slip past the gates (issue 8), end to end.

Every case is checked through ``sqlgate check --local`` and a real server Check (the two
must agree byte for byte, ``both_ways``); each bypass class is dressed several ways —
other predicates, other settings, other functions, other spellings and orders — so the
gate holds by design, not for the literal strings of the issue. Each case failed (was
allowed, or lost its finding) before the model learned the class.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration.test_check_e2e import both_ways

CODES = {"allow": 0, "deny": 1, "needs_approval": 3}

# (id, files as {name: sql}, rules that must fire, decision at least)
Case = tuple[str, dict[str, str], set[str], str]

CTE: list[Case] = [
    ("cte-delete", {"V1__a.sql": "WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d;"},
     {"delete-without-where"}, "needs_approval"),
    ("cte-update-into-insert", {"V1__a.sql": "WITH u AS (UPDATE accounts SET balance = 0 "
     "RETURNING id) INSERT INTO audit (id) SELECT id FROM u;"}, {"unbatched-backfill"}, "deny"),
    ("cte-nested", {"V1__a.sql": "WITH a AS (SELECT 1) SELECT * FROM (WITH b AS (DELETE FROM "
     "sessions RETURNING *) SELECT * FROM b) x;"}, {"delete-without-where"}, "needs_approval"),
    ("cte-in-update", {"V1__a.sql": "WITH gone AS (DELETE FROM carts RETURNING user_id) "
     "UPDATE users SET cart = NULL WHERE id IN (SELECT user_id FROM gone);"},
     {"delete-without-where"}, "needs_approval"),
    ("copy-of-delete", {"V1__a.sql": "COPY (DELETE FROM t RETURNING *) TO STDOUT;"},
     {"delete-without-where"}, "needs_approval"),
]  # fmt: skip

CONSTANT_TRUE: list[Case] = [
    (f"where-{i}", {"V1__a.sql": f"{verb} WHERE {pred};"}, {rule}, level)
    for i, (verb, pred, rule, level) in enumerate(
        [
            ("DELETE FROM t", "true", "delete-without-where", "needs_approval"),
            ("UPDATE t SET a = 1", "1 = 1", "unbatched-backfill", "deny"),
            ("DELETE FROM t", "'a' = 'a'", "delete-without-where", "needs_approval"),
            ("UPDATE t SET a = 1", "NOT false", "unbatched-backfill", "deny"),
            ("DELETE FROM t", "x IS NOT NULL OR true", "delete-without-where", "needs_approval"),
            ("UPDATE t SET a = 1", "1 < 2", "unbatched-backfill", "deny"),
            ("DELETE FROM t", "(SELECT true)", "delete-without-where", "needs_approval"),
            ("UPDATE t SET a = 1", "'on'::boolean AND 2 BETWEEN 1 AND 3", "unbatched-backfill",
             "deny"),
            ("DELETE FROM t", "id = id", "delete-without-where", "needs_approval"),
            ("UPDATE t SET a = 1", "coalesce(NULL, 1 + 1 = 2)", "unbatched-backfill", "deny"),
            ("DELETE FROM t", "EXISTS (SELECT 1)", "delete-without-where", "needs_approval"),
            ("DELETE FROM t", "NULL IS NULL AND 1 IN (1, 2)", "delete-without-where",
             "needs_approval"),
        ]
    )
]  # fmt: skip

SQL_F = "CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$\n  DELETE FROM victims;\n$$;\n"
PLPGSQL_F = (
    "CREATE OR REPLACE FUNCTION app.reset_balances() RETURNS void AS $body$\n"
    "BEGIN\n"
    "  IF now() > '2000-01-01' THEN\n"
    "    UPDATE accounts SET balance = 0;\n"
    "  END IF;\n"
    "END;\n"
    "$body$ LANGUAGE plpgsql;\n"
)
BODIES: list[Case] = [
    ("sql-function-select", {"V1__a.sql": SQL_F + "SELECT purge();\n"},
     {"delete-without-where"}, "needs_approval"),
    ("sql-function-in-values", {"V1__a.sql": SQL_F + "INSERT INTO log VALUES (purge());\n"},
     {"delete-without-where"}, "needs_approval"),
    ("plpgsql-function-perform-in-do", {"V1__a.sql": PLPGSQL_F
     + "DO $$ BEGIN PERFORM app.reset_balances(); END $$;\n"}, {"unbatched-backfill"}, "deny"),
    ("procedure-call", {"V1__a.sql": "CREATE PROCEDURE wipe() LANGUAGE plpgsql AS $$ BEGIN "
     "TRUNCATE orders; END $$;\nCALL wipe();\n"}, {"truncate"}, "needs_approval"),
    ("trigger", {"V1__a.sql": "CREATE FUNCTION on_insert() RETURNS trigger LANGUAGE plpgsql "
     "AS $$ BEGIN DELETE FROM archive; RETURN NEW; END $$;\nCREATE TRIGGER t_ins AFTER INSERT "
     "ON orders FOR EACH ROW EXECUTE FUNCTION on_insert();\n"}, {"delete-without-where"},
     "needs_approval"),
    ("do-block", {"V1__a.sql": "DO $$\nBEGIN\n  DROP TABLE victims;\nEND\n$$;\n"},
     {"drop-table"}, "needs_approval"),
    ("do-dynamic", {"V1__a.sql": "DO $$ BEGIN EXECUTE 'DROP TABLE ' || quote_ident("
     "current_setting('app.t')); END $$;"}, {"unrecognized-statement"}, "needs_approval"),
    ("execute-constant", {"V1__a.sql": "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS "
     "$$ BEGIN EXECUTE $q$ALTER TABLE users ALTER COLUMN id TYPE bigint$q$; END $$;\n"
     "SELECT f();\n"}, {"column-type-change"}, "needs_approval"),
    ("nested-calls-across-files", {
        "V1__define.sql": "CREATE FUNCTION inner_f() RETURNS void LANGUAGE sql AS "
        "'DELETE FROM t WHERE 1 = 1';\nCREATE FUNCTION outer_f() RETURNS int LANGUAGE "
        "plpgsql AS $$ BEGIN IF inner_f() IS NULL THEN RETURN 1; END IF; RETURN 0; END $$;\n",
        "V2__call.sql": "SELECT outer_f();\n"}, {"delete-without-where"}, "needs_approval"),
    ("begin-atomic", {"V1__a.sql": "CREATE FUNCTION g() RETURNS void LANGUAGE sql BEGIN ATOMIC "
     "UPDATE accounts SET balance = 0; END;\nSELECT g();\n"}, {"unbatched-backfill"}, "deny"),
    ("unreadable-body-called", {"V1__a.sql": "CREATE FUNCTION py() RETURNS void LANGUAGE "
     "plpython3u AS $$ plpy.execute('DROP TABLE x') $$;\nSELECT py();\n"},
     {"unrecognized-statement"}, "needs_approval"),
]  # fmt: skip

PRIVILEGED: list[Case] = [
    (f"privileged-{i}", {"V1__a.sql": sql}, {"privileged-function"}, "needs_approval")
    for i, sql in enumerate(
        [
            "SELECT dblink_exec('dbname=prod', 'DROP TABLE accounts');",
            "SELECT * FROM public.dblink('dbname=prod', 'DELETE FROM t RETURNING 1') AS t(x int);",
            "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity;",
            'SELECT "lo_unlink"(oid) FROM blobs;',
            "INSERT INTO leak VALUES (pg_read_file('/etc/passwd'));",
            "DO $$ BEGIN PERFORM pg_reload_conf(); END $$;",
            "UPDATE t SET a = 1 WHERE pg_cancel_backend(42);",
        ]
    )
]

EXISTING: list[Case] = [
    ("if-not-exists-table", {"V1__a.sql": "CREATE TABLE IF NOT EXISTS users (id int, email "
     "text);\nCREATE INDEX users_email_idx ON users (email);\n"}, {"index-not-concurrent"},
     "deny"),
    ("if-not-exists-other-file", {"V1__a.sql": "CREATE TABLE IF NOT EXISTS users (id int);\n",
     "V2__b.sql": "ALTER TABLE users ADD COLUMN n int NOT NULL;\n"}, {"add-required-column"},
     "deny"),
    ("search-path-switch", {"V1__a.sql": "SET search_path = staging;\nCREATE TABLE users (id int, "
     "email text);\nSET search_path = public;\nCREATE INDEX users_email_idx ON users (email);\n"},
     {"index-not-concurrent", "safety-setting-change"}, "deny"),
    ("search-path-set-config", {"V1__a.sql": "SELECT set_config('search_path', 'staging', false);"
     "\nCREATE TABLE users (id int, email text);\nRESET search_path;\n"
     "CREATE INDEX users_email_idx ON users (email);\n"}, {"index-not-concurrent"}, "deny"),
    ("search-path-user-first", {"V1__a.sql": "SET search_path = \"$user\", public;\nCREATE TABLE "
     "users (id int, email text);\nCREATE INDEX users_email_idx ON users (email);\n"},
     {"index-not-concurrent"}, "deny"),
]  # fmt: skip

SETTINGS: list[Case] = [
    (f"lexing-{i}", {"V1__a.sql": sql}, {"lexing-setting-change"}, "deny")
    for i, sql in enumerate(
        [
            "SET standard_conforming_strings = off;\nSELECT 'x\\' , ' ; DROP TABLE victim; --';",
            "BEGIN;\nSET LOCAL standard_conforming_strings TO false;\nCOMMIT;",
            "SELECT set_config('standard_conforming_strings', 'off', true);",
            "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);",
            "ALTER DATABASE app SET standard_conforming_strings = off;",
            "ALTER ROLE migrator SET backslash_quote = on;",
            "SET client_encoding = 'SJIS';",
            "SET NAMES 'GBK';",
            "RESET standard_conforming_strings;",
            "RESET ALL;",
            "CREATE FUNCTION f() RETURNS void LANGUAGE sql SET standard_conforming_strings = off "
            "AS 'SELECT 1';",
            "DO $$ BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); END $$;",
        ]
    )
] + [
    (f"safety-{i}", {"V1__a.sql": sql}, {"safety-setting-change"}, "needs_approval")
    for i, sql in enumerate(
        [
            "SET session_replication_role = replica;",
            "SELECT set_config('session_replication_role', 'replica', true);",
            "SET lock_timeout = 0;",
            "SET statement_timeout TO '2h';",
            "SET LOCAL lock_timeout = '30s';",
            "ALTER DATABASE app SET statement_timeout = 0;",
            "ALTER DATABASE app SET work_mem = '2GB';",
            "SELECT set_config(current_setting('app.name'), 'x', false);",
            "SET default_transaction_read_only = on;",
        ]
    )
]

ALL = CTE + CONSTANT_TRUE + BODIES + PRIVILEGED + EXISTING + SETTINGS


@pytest.mark.parametrize(("files", "rules", "decision"), [c[1:] for c in ALL],
                         ids=[c[0] for c in ALL])  # fmt: skip
def test_equivalent_sql_is_caught(
    files: dict[str, str],
    rules: set[str],
    decision: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    server_address: str,
) -> None:
    paths = []
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
        paths.append(str(tmp_path / name))
    code, out = both_ways(capsys, server_address, *paths)
    result = json.loads(out)
    fired = {f["rule"] for f in result["findings"]}
    assert rules <= fired, result["findings"]
    assert CODES[result["decision"]] == code
    rank = ["allow", "needs_approval", "deny"]
    assert rank.index(result["decision"]) >= rank.index(decision), result


# The same statements without the trick: the gates stay quiet (a test that cannot fail is
# a defect: these prove the findings above come from the trick, not from the statement).
QUIET: list[tuple[str, str, str]] = [
    ("where-real", "DELETE FROM t WHERE id = 1;\nUPDATE t SET a = 1 WHERE a IS NULL;",
     "delete-without-where"),
    ("where-false", "DELETE FROM t WHERE false;\nUPDATE t SET a = 1 WHERE 1 = 2;",
     "unbatched-backfill"),
    ("cte-select-only", "WITH d AS (SELECT 1) SELECT * FROM d;", "delete-without-where"),
    ("function-not-called", SQL_F, "delete-without-where"),
    ("function-filtered-body", "CREATE FUNCTION p(i int) RETURNS void LANGUAGE sql AS "
     "'DELETE FROM t WHERE id = i';\nSELECT p(1);", "delete-without-where"),
    ("created-table", "CREATE TABLE users (id int, email text);\nCREATE INDEX users_email_idx "
     "ON users (email);", "index-not-concurrent"),
    ("search-path-created-first", "SET search_path = staging, public;\nCREATE TABLE users (id "
     "int, email text);\nCREATE INDEX users_email_idx ON users (email);", "index-not-concurrent"),
    ("pg-dump-header", "SET standard_conforming_strings = on;\nSET client_encoding = 'UTF8';\n"
     "SELECT pg_catalog.set_config('standard_conforming_strings', 'on', false);",
     "lexing-setting-change"),
    ("safe-timeouts", "SET lock_timeout = '2s';\nSET LOCAL statement_timeout = '10min';",
     "safety-setting-change"),
    ("ordinary-functions", "SELECT setval('s', (SELECT max(id) FROM t));", "privileged-function"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "rule"), [q[1:] for q in QUIET], ids=[q[0] for q in QUIET])
def test_without_the_trick_the_gate_is_quiet(
    sql: str, rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    f = tmp_path / "V1__a.sql"
    f.write_text(sql)
    _, out = both_ways(capsys, server_address, str(f))
    assert rule not in {x["rule"] for x in json.loads(out)["findings"]}


def test_body_findings_point_into_the_defining_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    define, call = tmp_path / "V1__define.sql", tmp_path / "V2__call.sql"
    define.write_text(PLPGSQL_F)
    call.write_text("SELECT 1;\nSELECT app.reset_balances();\n")
    _, out = both_ways(capsys, server_address, str(define), str(call))
    finding = next(f for f in json.loads(out)["findings"] if f["rule"] == "unbatched-backfill")
    assert finding["file"].endswith("V1__define.sql")
    assert finding["line"] == 4  # the UPDATE inside the body
