"""``sqlgate-runner rehearse`` against a real PostgreSQL: a scratch copy of the target's
schema, measured locks and rewrites, batches, reconciliation and the rollback test; the
target itself is never changed and the scratch database is always dropped."""

from __future__ import annotations

from typing import Any

import pytest
from rehearse_db import Target

pytestmark = pytest.mark.postgres

SCHEMA = """
CREATE TABLE orders (id bigserial PRIMARY KEY, total numeric(10,2) NOT NULL, note text);
CREATE INDEX orders_total ON orders (total);
CREATE TABLE items (id serial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id),
                    qty int NOT NULL CHECK (qty > 0));
"""


def _target_state(t: Target) -> list[tuple[Any, ...]]:
    """Schema objects and row counts of the target, to prove a rehearsal left it alone."""
    return t.rows(
        "SELECT c.relname, c.relkind, c.relfilenode, a.attname, format_type(a.atttypid,"
        " a.atttypmod) FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid"
        " AND a.attnum > 0 JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        " ORDER BY 1, 4"
    ) + t.rows("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM items)")


def _statement(report: dict[str, Any], line: int) -> dict[str, Any]:
    return next(s for s in report["statements"] if s["line"] == line)


def test_measures_locks_rewrites_batches_and_passes_rollback_test(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.sql("INSERT INTO orders (total) SELECT g FROM generate_series(1, 50) g")
    before = _target_state(target)
    target.write(
        "db/V2__widen.sql",
        "-- sqlgate:meta\n"
        "-- reconcile:\n"
        '--   - {name: orders-count, sql: "SELECT count(*) FROM orders", expect: unchanged}\n'
        '--   - {name: total-sum, sql: "SELECT sum(total) FROM orders", expect: unchanged}\n'
        "--   - {name: no-null-note, sql: SELECT id FROM orders WHERE note IS NULL,"
        " expect: zero rows}\n"
        "\n"
        "\n"
        "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\n"  # line 8
        "ALTER TABLE items ALTER COLUMN qty TYPE bigint;\n"  # line 9
        "-- sqlgate:batch key=id size=300\n"
        "UPDATE orders SET note = 'n' || id;\n",  # line 11
    )
    target.write(
        "db/U2__widen.sql",
        "ALTER TABLE items ALTER COLUMN qty TYPE integer;\n"
        "ALTER TABLE orders DROP COLUMN status;\n",
    )
    code, out, err, report = target.rehearse(
        capsys, "db/V2__widen.sql", extra=("--generate-rows", "700")
    )
    assert code == 0, out + err
    # the seed: target rows are not copied; generated rows fill the empty tables
    assert report["seed"]["generated"] == {"items": 700, "orders": 700}
    assert report["seed"]["rows"]["orders"] == 700
    add = _statement(report, 8)
    assert [(lk["relation"], lk["mode"], lk["until"]) for lk in add["locks"]] == [
        ("orders", "ACCESS EXCLUSIVE", "commit")
    ]
    assert add["rewrites"] == []  # a constant default does not rewrite (measured)
    assert "holds ACCESS EXCLUSIVE on orders from statement 1 (line 8) until commit" in out
    widen = _statement(report, 9)
    assert ("items", "ACCESS EXCLUSIVE") in {(lk["relation"], lk["mode"]) for lk in widen["locks"]}
    rewritten = {w["relation"]: w for w in widen["rewrites"]}
    assert "items" in rewritten and rewritten["items"]["kind"] == "table"
    assert rewritten["items"]["relfilenode_before"] != rewritten["items"]["relfilenode_after"]
    assert "items_pkey" in rewritten  # its indexes are rebuilt too
    assert "rewrote table items" in out
    # lock hold time covers the statements after it up to the commit
    assert add["locks"][0]["held_ms"] >= add["duration_ms"] + widen["duration_ms"] - 1
    batch = _statement(report, 11)
    assert [c["rows"] for c in batch["chunks"]] == [300, 300, 100]
    assert batch["rows"] == 700 and all(c["duration_ms"] > 0 for c in batch["chunks"])
    phases = [(o["check"], o["phase"], o["passed"]) for o in report["reconciliation"]]
    assert ("orders-count", "after backfill (line 11)", True) in phases
    assert ("no-null-note", "after migration", True) in phases
    assert ("total-sum", "after rollback", True) in phases
    assert all(ok for _c, _p, ok in phases)
    assert report["rollback"]["status"] == "passed"
    assert report["rollback"]["ran"] == ["db/U2__widen.sql"]
    assert "result: passed" in out
    # the target is untouched, the scratch database is gone
    assert _target_state(target) == before
    assert target.rows("SELECT to_regclass('sqlgate.schema_history')") == [(None,)]
    assert report["scratch_dropped"] is True
    assert not target.database_exists(report["scratch_database"])


def test_rollback_that_leaves_a_difference_fails_with_the_schema_diff(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.write(
        "m/0002_x.up.sql",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"
        "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';\n"
        "CREATE INDEX items_qty ON items (qty);\n"
        "CREATE SEQUENCE invoice_no START 1000;\n"
        "ALTER TABLE items ADD CONSTRAINT qty_small CHECK (qty < 1000);\n",
    )
    # the down file forgets the index, the sequence, the constraint and the NOT NULL;
    # it resets the default to another value instead of dropping it
    target.write("m/0002_x.down.sql", "ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'x';\n")
    code, out, err, report = target.rehearse(capsys, "m/0002_x.up.sql")
    assert code == 23, out + err
    diff = report["rollback"]["diff"]
    assert report["rollback"]["status"] == "failed"
    assert (
        "+ index public.items_qty: CREATE INDEX items_qty ON public.items USING btree (qty)" in diff
    )
    assert any(d.startswith("+ sequence public.invoice_no: bigint start 1000") for d in diff)
    assert any(d.startswith("+ constraint public.qty_small ON items: CHECK") for d in diff)
    assert "~ column public.orders.note: text NULL -> text NOT NULL DEFAULT 'x'::text" in diff
    assert "rollback test: FAILED" in out and "+ index public.items_qty" in out
    assert "schema after rollback differs" in err
    assert not target.database_exists(report["scratch_database"])


def test_reconciliation_differences_fail_the_rehearsal(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    # checks in a sidecar this time; the migration loses rows and breaks an invariant
    target.write(
        "V3__dedupe.sql.yaml",
        "reconcile:\n"
        "  - name: item-count\n"
        "    sql: SELECT count(*) FROM items\n"
        "    expect: unchanged\n"
        "  - name: checksum\n"
        "    sql: >-\n"
        "      SELECT md5(string_agg(id::text || ':' || total::text, ',' ORDER BY id))\n"
        "      FROM orders\n"
        "    expect: unchanged\n"
        "  - name: positive-totals\n"
        "    sql: SELECT id FROM orders WHERE total <= 0\n"
        "    expect: zero rows\n",
    )
    target.write(
        "V3__dedupe.sql",
        "DELETE FROM items WHERE qty % 10 = 0;\nUPDATE orders SET total = -total WHERE id = 7;\n",
    )
    target.write("U3__dedupe.sql", "SELECT 1;\n")
    code, out, err, report = target.rehearse(
        capsys, "V3__dedupe.sql", extra=("--generate-rows", "40")
    )
    assert code == 23, out + err
    failed = {(o["check"], o["phase"]) for o in report["reconciliation"] if not o["passed"]}
    assert ("item-count", "after migration") in failed
    assert ("checksum", "after migration") in failed
    assert ("positive-totals", "after migration") in failed
    count = next(
        o for o in report["reconciliation"] if o["check"] == "item-count" and not o["passed"]
    )
    assert count["before"] == "1 row(s) [(40)]" and count["after"] == "1 row(s) [(36)]"
    assert "DIFFERS: V3__dedupe.sql item-count after migration: before 1 row(s) [(40)]" in err
    assert "expected zero rows, 1 row(s) [(7)]" in out


def test_missing_rollback_is_reported_and_fails_only_when_required(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.write("V4__a.sql", "ALTER TABLE orders ADD COLUMN a int;\n")
    target.write(
        "V5__b.sql", "-- sqlgate:meta\n-- rollback: none\n-- reason: forward only\nSELECT 1;\n"
    )
    code, out, _err, report = target.rehearse(capsys, "V4__a.sql", "V5__b.sql")
    assert code == 0
    assert report["rollback"]["status"] == "missing"
    assert report["rollback"]["missing"] == [
        "V5__b.sql: rollback: none (no script to run)",
        "V4__a.sql: no down file or compensating file",
    ]
    assert "rollback test: not run, rollback missing" in out
    code, _out, err, _report = target.rehearse(
        capsys, "V4__a.sql", "V5__b.sql", extra=("--require-rollback",)
    )
    assert code == 23 and "rollback missing: V5__b.sql" in err


def test_compensating_file_from_metadata_is_the_rollback(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.write(
        "mig/V6__c.sql",
        "-- sqlgate:meta\n-- rollback: compensating\n-- rollback_file: undo/V6_undo.sql\n"
        "CREATE TABLE audit (id int);\n",
    )
    target.write("mig/undo/V6_undo.sql", "DROP TABLE audit;\n")
    code, out, err, report = target.rehearse(capsys, "mig/V6__c.sql")
    assert code == 0, out + err
    assert report["rollback"] == {
        "status": "passed",
        "ran": ["mig/undo/V6_undo.sql"],
        "missing": [],
        "diff": [],
        "error": "",
    }
    # a CREATE TABLE's lock on the table it creates is marked as such
    lock = _statement(report, 4)["locks"][0]
    assert lock["relation"] == "audit" and lock["created"] is True


def test_failing_statement_stops_with_exit_20_and_leaves_nothing(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.sql("INSERT INTO orders (total) VALUES (1)")
    before = _target_state(target)
    target.write(
        "V7__bad.sql", "ALTER TABLE orders ADD COLUMN x int;\nALTER TABLE nope ADD y int;\n"
    )
    code, out, err, report = target.rehearse(capsys, "V7__bad.sql")
    assert code == 20, out + err
    assert 'relation "nope" does not exist' in report["error"]
    assert [s["outcome"] for s in report["statements"]] == ["aborted", "failed"]
    assert report["statements"][0]["error"] == "rolled back"
    assert "result: STOPPED" in out
    assert not target.database_exists(report["scratch_database"])
    assert _target_state(target) == before


def test_only_migrations_pending_on_the_target_are_rehearsed(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg
    from sqlgate_client.runner.apply import Applier
    from sqlgate_client.runner.history import History
    from sqlgate_client.runner.migrations import Timeouts, load

    target.sql(SCHEMA)
    target.write("V8__one.sql", "ALTER TABLE orders ADD COLUMN one int;\n")
    target.write("V9__two.sql", "ALTER TABLE orders ADD COLUMN two int;\n")
    with psycopg.connect(target.dsn, autocommit=True) as conn:  # apply V8 to the target
        history = History(conn, "sqlgate.schema_history")
        history.ensure()
        applier = Applier(conn, history, runner_id="t")
        ms = [load("V8__one.sql", Timeouts(), server_version=conn.info.server_version)]
        assert applier.apply(ms, applier.validate(ms)).error is None
    history_before = target.rows("SELECT * FROM sqlgate.schema_history")
    code, out, err, report = target.rehearse(
        capsys, "V8__one.sql", "V9__two.sql", extra=("--no-rollback-test",)
    )
    assert code == 0, out + err
    assert report["pending"] == ["V9__two.sql"]
    assert {s["file"] for s in report["statements"]} == {"V9__two.sql"}
    assert target.rows("SELECT * FROM sqlgate.schema_history") == history_before
    assert target.rows(
        "SELECT to_regclass('orders') IS NOT NULL, count(*) FROM pg_attribute"
        " WHERE attrelid = 'orders'::regclass AND attname = 'two'"
    ) == [(True, 0)]


def test_changed_bytes_of_a_migration_applied_on_the_target_are_refused(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg
    from sqlgate_client.runner.apply import Applier
    from sqlgate_client.runner.history import History
    from sqlgate_client.runner.migrations import Timeouts, load

    target.write("V1__a.sql", "CREATE TABLE a (id int);\n")
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        history = History(conn, "sqlgate.schema_history")
        history.ensure()
        applier = Applier(conn, history, runner_id="t")
        ms = [load("V1__a.sql", Timeouts(), server_version=conn.info.server_version)]
        assert applier.apply(ms, applier.validate(ms)).error is None
    target.write("V1__a.sql", "CREATE TABLE a (id bigint);\n")
    code, _out, err, report = target.rehearse(capsys, "V1__a.sql")
    assert code == 15 and "must not change" in err
    assert not target.database_exists(report["scratch_database"])


def test_autocommit_statement_locks_are_sampled_from_a_second_session(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    # an index on a slow (1 ms per row) immutable function: the concurrent build takes
    # long enough to be sampled many times over
    target.sql(
        "CREATE FUNCTION slow(x int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS"
        " $$BEGIN PERFORM pg_sleep(0.001); RETURN x; END$$"
    )
    target.write("V10__idx.sql", "CREATE INDEX CONCURRENTLY items_slow ON items (slow(qty));\n")
    target.write("U10__idx.sql", "DROP INDEX CONCURRENTLY items_slow;\n")
    code, out, err, report = target.rehearse(
        capsys, "V10__idx.sql", extra=("--generate-rows", "150")
    )
    assert code == 0, out + err
    stmt = report["statements"][0]
    assert stmt["in_transaction"] is False
    held = {(lk["relation"], lk["mode"]): lk for lk in stmt["locks"]}
    sue = held[("items", "SHARE UPDATE EXCLUSIVE")]
    assert sue["until"] == "statement end (sampled)"
    # 150 rows x 1 ms per row (twice: build and validate) -> at least ~150 ms held
    assert 100 <= sue["held_ms"] <= stmt["duration_ms"] + 50
    assert "sampled from a second session" in stmt["note"]
    assert report["rollback"]["status"] == "passed"


def test_seed_from_csv_and_sql_and_tables_that_cannot_be_generated(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.sql(SCHEMA)
    target.sql("CREATE TABLE odd (id int PRIMARY KEY, shape point NOT NULL)")
    target.write("seed.sql", "INSERT INTO orders (id, total) VALUES (1, 10.5), (2, 3);\n")
    target.write("items.csv", "order_id,qty\n1,2\n2,3\n2,4\n")
    target.write("V11__n.sql", "ALTER TABLE odd ADD COLUMN n int;\n")
    target.write("V11__n.down.sql", "ALTER TABLE odd DROP COLUMN n;\n")
    code, out, err, report = target.rehearse(
        capsys,
        "V11__n.sql",
        extra=(
            "--seed-csv",
            "public.items=items.csv",
            "--generate-rows",
            "5",
            "--seed-sql",
            "seed.sql",
        ),
    )
    assert code == 0, out + err
    seed = report["seed"]
    assert seed["rows"] == {"orders": 2, "items": 3, "odd": 0}
    assert seed["not_generated"] == {"odd": "no generator for column shape of type point"}
    assert "not generated: odd" in out


def test_scratch_server_of_another_major_version_or_tool_is_refused(
    target: Target, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlgate_client.runner.rehearse.scratch as scratch

    real = scratch.tool_major
    monkeypatch.setattr(scratch, "tool_major", lambda tool: 14 if tool == "pg_dump" else real(tool))
    target.write("V12__x.sql", "SELECT 1;\n")
    code, _out, err, _report = target.rehearse(capsys, "V12__x.sql")
    assert code == 24 and "pg_dump is version 14" in err
    assert target.rows(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'sqlgate_rehearsal_%'"
        " AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)"
    ) == [(0,)]


def test_unreadable_reconcile_declaration_is_a_usage_error(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target.write(
        "V13__x.sql",
        "-- sqlgate:meta\n-- reconcile:\n--   - {name: c, sql: SELECT 1, expect: similar}\n"
        "SELECT 1;\n",
    )
    code, _out, err, _report = target.rehearse(capsys, "V13__x.sql")
    assert code == 2 and "reconcile[0].expect" in err


def test_sigterm_mid_batch_stops_reports_how_far_and_drops_the_scratch(target: Target) -> None:
    import json
    import signal
    import subprocess
    import sys

    target.sql(SCHEMA)
    target.write(
        "V14__slow.sql",
        "-- sqlgate:batch key=id size=50 pause=150ms\nUPDATE orders SET note = 'x' || id;\n",
    )
    report = target.dir / "stopped.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sqlgate_client.runner.cli",
            "rehearse",
            "--dsn",
            target.dsn,
            "--scratch-dsn",
            target.admin_dsn,
            "--generate-rows",
            "1000",
            "--report",
            str(report),
            "V14__slow.sql",
        ],
        cwd=target.dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "chunk 2:" in line:
            proc.send_signal(signal.SIGTERM)
            break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 21, "".join(seen) + err
    doc = json.loads(report.read_text())
    chunks = doc["statements"][0]["chunks"]
    assert 2 <= len(chunks) < 20  # stopped between chunks, long before the 20th
    stmt = doc["statements"][0]
    assert stmt["outcome"] == "aborted" and stmt["rows"] == 50 * len(chunks)
    assert "SIGTERM: batch V14__slow.sql:2 stopped after id=" in doc["error"]
    assert "result: STOPPED: SIGTERM" in out
    assert doc["scratch_dropped"] is True
    assert not target.database_exists(doc["scratch_database"])
