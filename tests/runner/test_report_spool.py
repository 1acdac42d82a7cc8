"""Report delivery: an unreachable server spools the report, the next start resends it
and deletes it only once acknowledged.

The receiving end is a real gRPC server on 127.0.0.1 serving the generated
ExecutionService with a small recorder, because the project's ExecutionService
servicer has not landed yet; swap in the real server when it does.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from concurrent import futures
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlgate_client.gen.sqlgate.v1 import execution_pb2, execution_pb2_grpc
from sqlgate_client.runner.apply import FileResult, RunResult, StatementResult
from sqlgate_client.runner.remote import Remote
from sqlgate_client.runner.report import Spool, build_report, deliver, retry_spooled


class Recorder(execution_pb2_grpc.ExecutionServiceServicer):
    def __init__(self) -> None:
        self.reports: list[execution_pb2.ReportExecutionRequest] = []
        self.auth: list[str] = []

    def ReportExecution(
        self, request: execution_pb2.ReportExecutionRequest, context: Any
    ) -> execution_pb2.ReportExecutionResponse:
        self.auth.append(dict(context.invocation_metadata()).get("authorization", ""))
        self.reports.append(request)
        return execution_pb2.ReportExecutionResponse(audit_sequence=len(self.reports))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[str, Recorder]]:
    recorder = Recorder()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    execution_pb2_grpc.add_ExecutionServiceServicer_to_server(recorder, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield f"127.0.0.1:{port}", recorder
    finally:
        srv.stop(None)


def _result() -> RunResult:
    fr = FileResult("V1__a.sql", "1", "applied")
    fr.statements = [
        StatementResult("V1__a.sql", 0, 1, "succeeded", duration_ms=1.5, rows=3),
        StatementResult("V1__a.sql", 1, 2, "failed", duration_ms=0.5, error="boom"),
    ]
    r = RunResult(files=[fr])
    r.finished_at = datetime.now(UTC)
    return r


def test_report_carries_statement_timings_rows_and_outcomes() -> None:
    req = build_report(_result(), token_id="tok", verdict_id="ver")
    assert len(req.report_id) == 32 and req.token_id == "tok" and req.verdict_id == "ver"
    assert [(s.index, s.rows_affected, s.outcome) for s in req.statements] == [
        (0, 3, execution_pb2.EXECUTION_OUTCOME_SUCCEEDED),
        (1, -1, execution_pb2.EXECUTION_OUTCOME_FAILED),
    ]
    assert req.statements[1].error == "boom"


def test_undeliverable_report_is_spooled_then_retried(
    tmp_path: Path, server: tuple[str, Recorder]
) -> None:
    spool = Spool(tmp_path / "spool")
    request = build_report(_result(), token_id="tok", verdict_id="ver")
    dead = f"127.0.0.1:{_free_port()}"
    with Remote(dead, api_token="api-secret", timeout_s=2) as remote:
        assert deliver(remote, spool, request) is None
        assert retry_spooled(remote, spool) == (0, 1)  # still down: kept
    [path] = spool.pending()
    assert path.name == f"{request.report_id}.json"
    assert json.loads(path.read_text())["token_id"] == "tok"

    address, recorder = server
    with Remote(address, api_token="api-secret", timeout_s=5) as remote:
        assert retry_spooled(remote, spool) == (1, 0)
    assert spool.pending() == []
    assert [r.report_id for r in recorder.reports] == [request.report_id]
    assert recorder.reports[0] == request  # the exact report, field for field
    assert recorder.auth == ["Bearer api-secret"]


def test_unreadable_spool_file_is_kept(tmp_path: Path, server: tuple[str, Recorder]) -> None:
    spool = Spool(tmp_path / "spool")
    spool.directory.mkdir()
    bad = spool.directory / "abc.json"
    bad.write_text("{not json")
    address, recorder = server
    with Remote(address, api_token=None, timeout_s=5) as remote:
        assert retry_spooled(remote, spool) == (0, 1)
    assert bad.exists() and recorder.reports == []
