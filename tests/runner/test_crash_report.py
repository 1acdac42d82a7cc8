"""A run that dies leaves a report that reaches the server.

Real parts only: the project's server, ``sqlgate-runner apply`` as a subprocess, a real
PostgreSQL target. The run is held at a statement by a lock the test takes on the
table, then either the runner is killed with SIGKILL (it cannot clean up: the started
report it spooled before executing anything is delivered by the next run's start), or
its database backend is terminated with ``pg_terminate_backend`` (the target "crashes"
under it: exit 22, no traceback, the report says ``failed`` and is delivered). Both for
a statement in a transaction and for one run alone (``CREATE INDEX CONCURRENTLY``).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_e2e import Repo, _last_sequence, _since, live, repo

__all__ = ["live", "repo"]  # the end-to-end suite's fixtures, used here too

pytestmark = pytest.mark.postgres

STATEMENTS = {
    "transaction": "INSERT INTO held (a) VALUES (1);\n",
    "alone": "CREATE INDEX CONCURRENTLY held_a_idx ON held (a);\n",
}


def _spool(repo: Repo) -> list[Path]:
    return sorted((repo.root / ".sqlgate-runner" / "spool").glob("*.json"))


def _hold(repo: Repo, pg_dsn: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A transaction holding ACCESS EXCLUSIVE on the table: the runner's statement waits."""
    holder = psycopg.connect(pg_dsn)
    holder.execute(f"LOCK TABLE {repo.schema}.held IN ACCESS EXCLUSIVE MODE")
    return holder


def _runner_backend(repo: Repo, statement: str, budget_s: float = 60) -> int:
    """The pid of the runner's backend once it waits on the held lock."""
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        row = repo.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s AND pid <> pg_backend_pid()",
            (statement.strip().rstrip(";")[:30] + "%",),
        ).fetchone()
        if row is not None:
            return int(row[0])
        time.sleep(0.1)
    raise AssertionError("the runner never reached the held statement")


def _setup(repo: Repo, kind: str) -> tuple[str, str]:
    repo.conn.execute("CREATE TABLE held (id bigint GENERATED ALWAYS AS IDENTITY, a int)")
    path = repo.write("V1__held.sql", STATEMENTS[kind])
    return path, repo.reviewed(path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_runner_killed_mid_run_leaves_a_report_the_next_run_delivers(
    repo: Repo, pg_dsn: str, kind: str
) -> None:
    path, verdict = _setup(repo, kind)
    start = _last_sequence(repo.live)
    holder = _hold(repo, pg_dsn)
    try:
        proc = repo.start(path, verdict=verdict, lock_timeout="120s")
        backend = _runner_backend(repo, STATEMENTS[kind])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        [spooled] = _spool(repo)  # written before the statement was sent
        started = json.loads(spooled.read_text())
        assert started["outcome"] == "EXECUTION_OUTCOME_ABORTED"
        # the orphaned backend would still wait for the lock: end it, then release
        repo.conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
    finally:
        holder.rollback()
        holder.close()
    redeemed = [e for e in _since(repo.live, start) if e.kind == "token_redeem"]
    assert [e.details["jti"] for e in redeemed] == [started["token_id"]]
    assert not [e for e in _since(repo.live, start) if e.kind == "execution_report"]

    again = repo.run(path, verdict=verdict)
    assert f"delivered spooled report {started['report_id']}" in again.stderr, again.stderr
    reports = {
        e.details["report_id"]: e.details
        for e in _since(repo.live, start)
        if e.kind == "execution_report"
    }
    assert reports[started["report_id"]]["outcome"] == "aborted"
    assert reports[started["report_id"]]["token_id"] == started["token_id"]
    assert _spool(repo) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(STATEMENTS))
def test_target_backend_terminated_mid_file_exits_22_and_reports(
    repo: Repo, pg_dsn: str, kind: str
) -> None:
    path, verdict = _setup(repo, kind)
    start = _last_sequence(repo.live)
    holder = _hold(repo, pg_dsn)
    try:
        proc = repo.start(path, verdict=verdict, lock_timeout="120s")
        backend = _runner_backend(repo, STATEMENTS[kind])
        repo.conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
        _out, err = proc.communicate(timeout=120)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 22, err
    assert "Traceback" not in err, err
    assert "connection to the target database was lost" in err
    reports = [e for e in _since(repo.live, start) if e.kind == "execution_report"]
    assert [e.details["outcome"] for e in reports] == ["failed"]
    assert _spool(repo) == []
    # nothing half-done is left behind by the terminated statement
    assert repo.sql("SELECT count(*) FROM held") == 0
