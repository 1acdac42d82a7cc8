"""The runner's database side against a real PostgreSQL: transactions, history, indexes."""

from __future__ import annotations

import psycopg
import pytest
from runner_db import Db
from sqlgate_client.runner.errors import (
    HistoryConflict,
    LockBusy,
    SqlFailed,
    UnsupportedSql,
    UsageError,
)
from sqlgate_client.runner.history import History
from sqlgate_client.runner.migrations import Timeouts, duration_ms

pytestmark = pytest.mark.postgres


def test_transactional_apply_records_history_and_skips_second_run(db: Db) -> None:
    path = db.write(
        "V1_1__users.sql",
        "CREATE TABLE users (id int PRIMARY KEY, name text);\n"
        "INSERT INTO users VALUES (1, 'a;b'), (2, $$x$$);\n",
    )
    first = db.run(path)
    assert first.error is None and first.outcome == "succeeded"
    assert [s.outcome for s in first.files[0].statements] == ["succeeded", "succeeded"]
    assert first.files[0].statements[1].rows == 2
    row = db.conn.execute(
        f"SELECT version, sha256, success, runner_id, statements_done, duration_ms"
        f" FROM {db.history_table}"
    ).fetchone()
    assert row is not None
    assert row[0] == "1.1" and row[2] is True and row[3] == "test-runner" and row[4] == 2
    assert row[1] == db.load(path)[0].sha256 and row[5] is not None

    second = db.run(path)
    assert second.error is None and second.outcome == "skipped"
    assert second.files[0].outcome == "skipped"
    assert db.scalar("SELECT count(*) FROM users") == 2  # nothing ran twice


def test_changed_bytes_of_applied_migration_are_refused(db: Db) -> None:
    path = db.write("V1__t.sql", "CREATE TABLE t (id int);\n")
    assert db.run(path).error is None
    db.write("V1__t.sql", "CREATE TABLE t (id int); \n")  # one byte more
    later = db.write("V2__u.sql", "CREATE TABLE u (id int);\n")
    with pytest.raises(HistoryConflict, match="must not change"):
        db.run(path, later)
    assert db.scalar("SELECT to_regclass('u') IS NULL") is True  # nothing ran


def test_failing_middle_statement_rolls_back_everything(db: Db) -> None:
    path = db.write(
        "V1__three.sql",
        "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1/0);\nCREATE TABLE b (id int);\n",
    )
    result = db.run(path)
    assert isinstance(result.error, SqlFailed)
    assert "division by zero" in str(result.error) and ":2:" in str(result.error)
    outcomes = [s.outcome for s in result.files[0].statements]
    assert outcomes == ["aborted", "failed", "skipped"]
    assert db.scalar("SELECT to_regclass('a') IS NULL") is True
    row = db.conn.execute(
        f"SELECT success, statements_done, error FROM {db.history_table}"
    ).fetchone()
    assert row is not None and row[0] is False and row[1] == 0 and "division" in row[2]


def test_failed_then_fixed_file_can_run_again(db: Db) -> None:
    path = db.write("V1__x.sql", "CREATE TABLE x (id int);\nSELECT 1/0;\n")
    assert isinstance(db.run(path).error, SqlFailed)
    db.write("V1__x.sql", "CREATE TABLE x (id int);\n")  # nothing of it was applied
    assert db.run(path).error is None
    assert db.scalar("SELECT to_regclass('x') IS NOT NULL") is True


def test_concurrent_index_runs_outside_a_transaction(db: Db) -> None:
    path = db.write(
        "V1__idx.sql",
        "CREATE TABLE items (id int, sku text);\n"
        "INSERT INTO items SELECT g, 'sku' || g FROM generate_series(1, 100) g;\n"
        "CREATE INDEX CONCURRENTLY items_sku ON items (sku);\n",
    )
    migration = db.load(path)[0]
    assert [s.kind for s in migration.steps] == ["transaction", "alone"]
    result = db.run(path)
    assert result.error is None
    assert db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_sku'::regclass")


def test_failed_concurrent_unique_index_leaves_no_invalid_index(db: Db) -> None:
    path = db.write(
        "V1__dup.sql",
        "CREATE TABLE d (id int, email text);\n"
        "INSERT INTO d VALUES (1, 'x'), (2, 'x');\n"
        "CREATE UNIQUE INDEX CONCURRENTLY d_email ON d (email);\n"
        "CREATE TABLE after_it (id int);\n",
    )
    result = db.run(path)
    assert isinstance(result.error, SqlFailed)
    fr = result.files[0]
    assert [s.outcome for s in fr.statements] == ["succeeded", "succeeded", "failed", "skipped"]
    assert "statements that ran: [0, 1]" in str(result.error)
    assert fr.dropped_invalid_indexes == [f"{db.schema}.d_email"]
    assert db.scalar("SELECT to_regclass('d_email') IS NULL") is True
    # scoped to this test's schema: other suites (tests/catalog) deliberately leave an
    # INVALID index elsewhere in the same session database
    invalid_here = (
        "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        f" WHERE NOT i.indisvalid AND c.relnamespace = '\"{db.schema}\"'::regnamespace"
    )
    assert db.scalar(invalid_here) == 0
    assert db.scalar("SELECT to_regclass('after_it') IS NULL") is True
    assert db.scalar(f"SELECT statements_done FROM {db.history_table}") == 2

    # fix the data, rerun: resumes at the index (the table is not created twice)
    db.conn.execute("UPDATE d SET email = 'y' WHERE id = 2")
    again = db.run(path)
    assert again.error is None
    assert [s.error for s in again.files[0].statements[:2]] == ["applied by an earlier run"] * 2
    assert db.scalar("SELECT to_regclass('after_it') IS NOT NULL") is True


def test_file_wrapped_in_begin_commit_runs_as_one_transaction(db: Db) -> None:
    path = db.write("V1__wrapped.sql", "BEGIN;\nCREATE TABLE w (id int);\nSELECT 1/0;\nCOMMIT;\n")
    result = db.run(path)
    assert isinstance(result.error, SqlFailed)
    assert db.scalar("SELECT to_regclass('w') IS NULL") is True


def test_other_transaction_control_is_refused(db: Db) -> None:
    path = db.write("V1__mid.sql", "CREATE TABLE m (id int);\nCOMMIT;\nCREATE TABLE n (id int);\n")
    with pytest.raises(UnsupportedSql, match="explicit transaction control"):
        db.load(path)


def test_lock_timeout_is_set_per_transaction(db: Db) -> None:
    path = db.write("V1__t.sql", "CREATE TABLE locked (id int);\n")
    db.write("V1__t.sql.yaml", "lock_timeout: 200ms\n")
    assert db.run(path).error is None
    later = db.write("V2__t.sql", "ALTER TABLE locked ADD COLUMN x int;\n")
    db.write("V2__t.sql.yaml", "lock_timeout: 100ms\n")
    with psycopg.connect(db.dsn) as holder:  # a real conflicting lock
        holder.execute(f"LOCK TABLE {db.schema}.locked IN ACCESS SHARE MODE")
        result = db.run(later)
    assert isinstance(result.error, SqlFailed)
    assert "lock timeout" in str(result.error)


@pytest.mark.parametrize(
    ("sidecar", "key"),
    [
        ("lock_timeout: 10min\n", "lock_timeout"),
        ("lock_timeout: 0\n", "lock_timeout"),  # 0 = no limit at all
        ("statement_timeout: 2h\n", "statement_timeout"),
        ("lock_timeout: 1s\nstatement_timeout: 0\n", "statement_timeout"),
    ],
)
def test_sidecar_may_not_loosen_timeouts(db: Db, sidecar: str, key: str) -> None:
    path = db.write("V1__t.sql", "CREATE TABLE loose (id int);\n")
    db.write("V1__t.sql.yaml", sidecar)
    with pytest.raises(UsageError, match=f"{key} .* is weaker than the runner's") as info:
        db.load(path)
    assert info.value.exit_code == 2


def test_sidecar_may_tighten_timeouts(db: Db) -> None:
    path = db.write("V1__t.sql", "CREATE TABLE tight (id int);\n")
    db.write("V1__t.sql.yaml", "lock_timeout: 5000ms\nstatement_timeout: 1min\n")
    assert db.load(path)[0].timeouts == Timeouts("5000ms", "1min")
    assert duration_ms("0") == float("inf") and duration_ms("2min") == 120_000


def test_second_runner_is_refused_while_lock_held(db: Db) -> None:
    path = db.write("V1__t.sql", "CREATE TABLE z (id int);\n")
    with psycopg.connect(db.dsn, autocommit=True) as other:
        holder = History(other, db.history_table)
        holder.ensure()
        holder.lock()
        with pytest.raises(LockBusy):
            db.run(path)
