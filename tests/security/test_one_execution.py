"""One verdict, one execution (issue 8, item 5), with the real server, ``sqlgate-runner``
and PostgreSQL: the issue's trick — the same allowed verdict run again under other
``--history-table`` values — ran the same UPDATE three times. Now a token is issued,
and redeemed, only while no other token of the verdict was redeemed without a report
saying its run applied nothing."""

from __future__ import annotations

import pytest
from sqlgate_client.runner.remote import Remote

from .test_review_equals_execution import ENV, RUNNER, TARGET, Target, server, target

__all__ = ["server", "target"]  # fixtures used here
pytestmark = pytest.mark.postgres
BUMP = "UPDATE counter SET n = n + 1;\n"


def _counter(t: Target) -> int:
    row = t.conn.execute(f'SELECT n FROM "{t.schema}".counter').fetchone()
    assert row is not None
    return int(row[0])


def _setup(t: Target) -> None:
    t.conn.execute(f'CREATE TABLE "{t.schema}".counter (n int NOT NULL)')
    t.conn.execute(f'INSERT INTO "{t.schema}".counter VALUES (0)')


def test_other_history_tables_do_not_give_a_second_run(target: Target) -> None:
    _setup(target)
    path = target.write("V1__bump.sql", BUMP)
    verdict = target.check(path)
    first = target.run(path, verdict=verdict)
    assert first.returncode == 0, first.stdout + first.stderr
    for other in ("h2", "h3"):
        again = target.run(
            path, verdict=verdict, extra=["--history-table", f"{target.schema}.{other}"]
        )
        assert again.returncode == 14, again.stdout + again.stderr
        assert "already_executed" in again.stderr
    assert _counter(target) == 1


def test_two_tokens_issued_up_front_redeem_once(target: Target) -> None:
    _setup(target)
    path = target.write("V1__bump.sql", BUMP)
    verdict = target.check(path)
    with Remote(
        target.server.address, api_token=target.server.tokens[RUNNER], timeout_s=30
    ) as remote:
        tokens = [remote.issue_token(verdict, ENV, TARGET).token for _ in range(2)]
    first = target.run(path, token=tokens[0])
    assert first.returncode == 0, first.stdout + first.stderr
    second = target.run(path, token=tokens[1], extra=["--history-table", f"{target.schema}.h2"])
    assert second.returncode == 14, second.stdout + second.stderr
    assert "already_executed" in second.stderr
    assert _counter(target) == 1
    kinds = [
        (e.kind, e.details.get("reason"))
        for e in target.server.running.app.store.iter_audit()
        if e.details.get("verdict_id") == verdict and e.kind.startswith("token_redeem")
    ]
    assert kinds == [("token_redeem", None), ("token_redeem_failed", "already_executed")]


def test_a_run_that_applied_nothing_frees_the_verdict(target: Target) -> None:
    _setup(target)
    target.conn.execute(f'CREATE TABLE "{target.schema}".gate (id int PRIMARY KEY)')
    target.conn.execute(f'INSERT INTO "{target.schema}".gate VALUES (1)')
    path = target.write("V1__bump.sql", BUMP + "INSERT INTO gate VALUES (1);\n")
    verdict = target.check(path)
    failed = target.run(path, verdict=verdict)  # duplicate key: the transaction rolls back
    assert failed.returncode == 20, failed.stdout + failed.stderr
    assert _counter(target) == 0
    target.conn.execute(f'DELETE FROM "{target.schema}".gate')
    retried = target.run(path, verdict=verdict)  # the report said nothing was applied
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert _counter(target) == 1
    third = target.run(path, verdict=verdict, extra=["--history-table", f"{target.schema}.h2"])
    assert third.returncode == 14, third.stdout + third.stderr
    assert _counter(target) == 1


def test_a_partly_applied_run_does_not_free_the_verdict(target: Target) -> None:
    _setup(target)
    path = target.write(
        "V1__bump.sql", BUMP + "CREATE INDEX CONCURRENTLY missing_idx ON no_such_table (id);\n"
    )
    verdict = target.check(path)
    partial = target.run(path, verdict=verdict)  # the UPDATE commits, the index fails
    assert partial.returncode == 20, partial.stdout + partial.stderr
    assert _counter(target) == 1
    again = target.run(path, verdict=verdict, extra=["--history-table", f"{target.schema}.h2"])
    assert again.returncode == 14, again.stdout + again.stderr
    assert "already_executed" in again.stderr
    assert _counter(target) == 1
