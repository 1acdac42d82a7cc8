"""Report delivery against the real server: an unreachable address spools the report,
the next start resends it to the real ReportExecution, the spool file goes only once
acknowledged, and the audit log holds the report exactly once.

The report is for a real run's token: a safe migration checked by the real server
(allow), a token issued to the runner and redeemed, as a runner does.
"""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from live import RUNNER, Live, live_server
from sqlgate_client.check import MigrationInput, check_remote
from sqlgate_client.gen.sqlgate.v1 import execution_pb2
from sqlgate_client.runner.apply import FileResult, RunResult, StatementResult
from sqlgate_client.runner.remote import Remote
from sqlgate_client.runner.report import Spool, build_report, deliver, retry_spooled

PATH = "db/V1__a.sql"
SQL = b"CREATE TABLE a (id bigint PRIMARY KEY);\n"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as served:
        yield served


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _result() -> RunResult:
    fr = FileResult(PATH, "1", "applied")
    fr.statements = [
        StatementResult(PATH, 0, 1, "succeeded", duration_ms=1.5, rows=3),
        StatementResult(PATH, 1, 2, "failed", duration_ms=0.5, error="boom"),
    ]
    r = RunResult(files=[fr])
    r.finished_at = datetime.now(UTC)
    return r


def _redeemed(live: Live) -> tuple[str, str]:
    """(token_id, verdict_id) of a token really issued and redeemed by the runner."""
    result = check_remote(
        live.address,
        migrations=[MigrationInput(PATH, SQL)],
        environment="production",
        target="main-db",
        dialect="postgres",
        token=live.tokens["alice"],
    )
    assert result["decision"] == "allow", result
    verdict_id = str(result["verdict_id"])
    digests = {PATH: hashlib.sha256(SQL).hexdigest()}
    with Remote(live.address, api_token=live.tokens[RUNNER], timeout_s=30) as remote:
        issued = remote.issue_token(verdict_id, "production", "main-db")
        done = remote.redeem(issued.token, "production", "main-db", digests)
    return done.token_id, done.verdict_id


def test_report_carries_statement_timings_rows_and_outcomes() -> None:
    req = build_report(_result(), token_id="tok", verdict_id="ver")
    assert len(req.report_id) == 32 and req.token_id == "tok" and req.verdict_id == "ver"
    assert [(s.index, s.rows_affected, s.outcome) for s in req.statements] == [
        (0, 3, execution_pb2.EXECUTION_OUTCOME_SUCCEEDED),
        (1, -1, execution_pb2.EXECUTION_OUTCOME_FAILED),
    ]
    assert req.statements[1].error == "boom"


def test_undeliverable_report_is_spooled_then_delivered_once(tmp_path: Path, live: Live) -> None:
    token_id, verdict_id = _redeemed(live)
    spool = Spool(tmp_path / "spool")
    request = build_report(_result(), token_id=token_id, verdict_id=verdict_id)
    dead = f"127.0.0.1:{_free_port()}"
    with Remote(dead, api_token=live.tokens[RUNNER], timeout_s=2) as remote:
        assert deliver(remote, spool, request) is None
        assert retry_spooled(remote, spool) == (0, 1)  # still down: kept
    [path] = spool.pending()
    assert path.name == f"{request.report_id}.json"
    assert json.loads(path.read_text())["token_id"] == token_id
    assert live.events("execution_report") == []

    with Remote(live.address, api_token=live.tokens[RUNNER], timeout_s=30) as remote:
        assert retry_spooled(remote, spool) == (1, 0)
        assert spool.pending() == []
        assert retry_spooled(remote, spool) == (0, 0)  # nothing left to send
        # a runner that crashed after the server acknowledged resends: recorded once
        seq = remote.report(request)
    [event] = live.events("execution_report")
    assert event.sequence == seq and event.principal == RUNNER
    assert event.details["token_id"] == token_id
    assert event.details["report_id"] == request.report_id
    live.assert_chain_ok()


def test_report_by_another_principal_is_refused_and_stays_spooled(
    tmp_path: Path, live: Live
) -> None:
    token_id, verdict_id = _redeemed(live)
    spool = Spool(tmp_path / "spool")
    request = build_report(_result(), token_id=token_id, verdict_id=verdict_id)
    spool.write(request)
    # alice is not the runner that redeemed the token: the server refuses, the report is kept
    with Remote(live.address, api_token=live.tokens["alice"], timeout_s=30) as remote:
        assert retry_spooled(remote, spool) == (0, 1)
    assert live.events("execution_report") == []


def test_unreadable_spool_file_is_kept(tmp_path: Path, live: Live) -> None:
    spool = Spool(tmp_path / "spool")
    spool.directory.mkdir()
    bad = spool.directory / "abc.json"
    bad.write_text("{not json")
    with Remote(live.address, api_token=live.tokens[RUNNER], timeout_s=30) as remote:
        assert retry_spooled(remote, spool) == (0, 1)
    assert bad.exists() and live.events("execution_report") == []
