"""An interrupted ``CREATE INDEX CONCURRENTLY`` is recovered on the rerun, not repeated.

Real server, ``sqlgate-runner`` subprocesses and PostgreSQL. A transaction holding a
row lock on the table makes the runner's CIC wait *after* it committed the index's
catalog entry (INVALID). Then the run is cut: the runner killed with SIGKILL (its
orphaned backend ended by the test), or its backend terminated (runner exits 22). The
rerun finds exactly that index INVALID, drops it and builds it — where the old runner
failed "already exists" on every rerun. Dressed differently: the orphaned backend is left
to finish the build (a VALID index the rerun records as done without running it again),
a quoted, schema-qualified name, a UNIQUE index, and an unrelated INVALID index elsewhere
in the database that must survive.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlgate_client.runner.concurrent_index import IndexTarget, target_of
from sqlgate_client.sqlsplit import split
from test_e2e import Repo, live, repo

__all__ = ["live", "repo"]  # the end-to-end suite's fixtures, used here too

pytestmark = pytest.mark.postgres

CASES = {
    "plain": ("CREATE INDEX CONCURRENTLY held_a_idx ON held (a);\n", "held_a_idx"),
    "quoted": (
        'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "Held A" ON {schema}.held'
        " USING btree (a);\n",
        "Held A",
    ),
}


def _index(repo: Repo, name: str) -> tuple[bool, bool] | None:
    """(valid, ready) of the index ``name`` in the test schema, None when absent."""
    row = repo.conn.execute(
        "SELECT i.indisvalid, i.indisready FROM pg_index i JOIN pg_class c"
        " ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s",
        (repo.schema, name),
    ).fetchone()
    return None if row is None else (bool(row[0]), bool(row[1]))


def _backend(repo: Repo, budget_s: float = 60) -> int:
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        row = repo.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE query ILIKE 'CREATE %%INDEX CONCURRENTLY%%'"
            " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.1)
    raise AssertionError("the runner's CREATE INDEX CONCURRENTLY never waited")


def _setup(repo: Repo, case: str, pg_dsn: str) -> tuple[str, str, str, Any]:
    text, name = CASES[case]
    repo.conn.execute("CREATE TABLE held (id bigint PRIMARY KEY, a int)")
    repo.conn.execute("INSERT INTO held SELECT g, g FROM generate_series(1, 100) g")
    path = repo.write("V1__index.sql", text.format(schema=repo.schema))
    verdict = repo.reviewed(path)
    holder = psycopg.connect(pg_dsn)  # a writer in flight: CIC waits for it to finish
    holder.execute(
        sql.SQL("UPDATE {}.held SET a = a WHERE id = 1").format(sql.Identifier(repo.schema))
    )
    return path, verdict, name, holder


def _unrelated_invalid(repo: Repo) -> None:
    """An INVALID index on another table, left by someone else's failed CIC."""
    repo.conn.execute("CREATE TABLE other (v int)")
    repo.conn.execute("INSERT INTO other VALUES (1), (1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        repo.conn.execute("CREATE UNIQUE INDEX CONCURRENTLY other_v_key ON other (v)")
    state = _index(repo, "other_v_key")
    assert state is not None and not state[0]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("cut", ["kill", "terminate"])
def test_interrupted_cic_leaves_invalid_index_the_rerun_replaces(
    repo: Repo, pg_dsn: str, case: str, cut: str
) -> None:
    _unrelated_invalid(repo)
    path, verdict, name, holder = _setup(repo, case, pg_dsn)
    try:
        proc = repo.start(path, verdict=verdict, lock_timeout="120s")
        backend = _backend(repo)
        assert _index(repo, name) == (False, False)  # catalog entry committed, not built
        if cut == "kill":
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            repo.conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
        else:
            repo.conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 22, err
    finally:
        holder.rollback()
        holder.close()
    assert _index(repo, name) == (False, False), "the interrupted build left it INVALID"

    again = repo.run(path, verdict=verdict)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "left by an interrupted earlier run" in again.stderr
    assert _index(repo, name) == (True, True)
    left = _index(repo, "other_v_key")
    assert left is not None and not left[0], "never drop another invalid index"
    [(_v, _p, ok, done, *_)] = repo.history()
    assert (ok, done) == (True, 1)


@pytest.mark.slow
def test_build_finished_after_the_runner_died_is_recorded_not_repeated(
    repo: Repo, pg_dsn: str
) -> None:
    path, verdict, name, holder = _setup(repo, "plain", pg_dsn)
    try:
        proc = repo.start(path, verdict=verdict, lock_timeout="120s")
        backend = _backend(repo)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        holder.rollback()  # the orphaned backend goes on and finishes the build
        holder.close()
    deadline = time.monotonic() + 60
    while _index(repo, name) != (True, True) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _index(repo, name) == (True, True)
    repo.conn.execute("SELECT pg_terminate_backend(%s)", (backend,))

    again = repo.run(path, verdict=verdict)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already built by an interrupted run" in again.stderr
    [(_v, _p, ok, done, *_)] = repo.history()
    assert (ok, done) == (True, 1)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("CREATE INDEX CONCURRENTLY i ON t (a)", IndexTarget("i", "t")),
        ("create index concurrently I on ONLY s.t using gin (a)", IndexTarget("i", "s.t")),
        (
            'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "A""b" ON "S"."T" (a)',
            IndexTarget('A"b', '"S"."T"'),
        ),
        ("CREATE INDEX CONCURRENTLY ON t (a)", None),  # PostgreSQL picks the name
        ("CREATE INDEX i ON t (a)", None),
        ("DROP INDEX CONCURRENTLY i", None),
        ("REINDEX INDEX CONCURRENTLY i", None),
    ],
)
def test_the_index_a_statement_names(text: str, target: IndexTarget | None) -> None:
    [statement] = split(text)
    assert target_of(statement) == target
