"""Execution reports: built from a run's results, delivered, or spooled and retried.

A report is never lost. Right after the token is redeemed and before anything executes,
a *started* report (outcome ``aborted``, saying the run did not finish) is written to
``<state dir>/spool/<report_id>.json``; when the run ends, the final report replaces it
under the same ``report_id`` and is sent. A runner killed (``kill -9``, power loss)
in between leaves the started report, and the next run's start delivers it. A spooled
file is deleted only after the server acknowledged it; the client-chosen ``report_id``
lets the server record a retried report once.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp

from sqlgate_client.checkpoints import keep
from sqlgate_client.gen.sqlgate.v1 import execution_pb2
from sqlgate_client.runner.apply import RunResult
from sqlgate_client.runner.errors import DatabaseUnavailable, ServerUnavailable
from sqlgate_client.runner.remote import Remote

_OUTCOMES = {
    "succeeded": execution_pb2.EXECUTION_OUTCOME_SUCCEEDED,
    "failed": execution_pb2.EXECUTION_OUTCOME_FAILED,
    "skipped": execution_pb2.EXECUTION_OUTCOME_SKIPPED,
    "aborted": execution_pb2.EXECUTION_OUTCOME_ABORTED,
}


STARTED_ERROR = (
    "the runner stopped before it finished (killed or crashed) after redeeming the token; "
    "nothing more is known from the runner: the target's history table records which "
    "statements committed"
)


def started_report(
    *, token_id: str, verdict_id: str, started_at: datetime | None = None
) -> execution_pb2.ReportExecutionRequest:
    """What is true if the run never gets to report: it started and did not finish."""
    request = execution_pb2.ReportExecutionRequest(
        report_id=uuid.uuid4().hex,
        token_id=token_id,
        verdict_id=verdict_id,
        outcome=execution_pb2.EXECUTION_OUTCOME_ABORTED,
        error=STARTED_ERROR,
    )
    started = Timestamp()
    started.FromDatetime(started_at or datetime.now(UTC))
    request.started_at.CopyFrom(started)
    return request


def build_report(
    result: RunResult, *, token_id: str, verdict_id: str, report_id: str | None = None
) -> execution_pb2.ReportExecutionRequest:
    """The ReportExecution request for a run: per-statement timings, rows and outcome.

    ``report_id`` is the started report's, so the final report replaces it."""
    request = execution_pb2.ReportExecutionRequest(
        report_id=report_id or uuid.uuid4().hex,
        token_id=token_id,
        verdict_id=verdict_id,
        outcome=_OUTCOMES[result.outcome],
        error=str(result.error) if result.error else "",
    )
    started = Timestamp()
    started.FromDatetime(result.started_at)
    request.started_at.CopyFrom(started)
    if result.finished_at is not None:
        finished = Timestamp()
        finished.FromDatetime(result.finished_at)
        request.finished_at.CopyFrom(finished)
    for f in result.files:
        for s in f.statements:
            request.statements.add(
                file=s.file,
                index=s.index,
                line=s.line,
                duration_ms=s.duration_ms,
                rows_affected=s.rows,
                outcome=_OUTCOMES[s.outcome],
                error=s.error,
            )
    return request


@dataclass
class Spool:
    """The state dir's report spool."""

    directory: Path

    def write(self, request: execution_pb2.ReportExecutionRequest) -> Path:
        """Persist atomically (write, fsync, rename) so a crash leaves no torn report."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{request.report_id}.json"
        tmp = path.with_suffix(".tmp")
        data = json_format.MessageToJson(request, preserving_proto_field_name=True)
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        return path

    def start(self, *, token_id: str, verdict_id: str) -> execution_pb2.ReportExecutionRequest:
        """Spool the started report (before anything executes); the final one replaces it."""
        request = started_report(token_id=token_id, verdict_id=verdict_id)
        self.write(request)
        return request

    def keep_checkpoint(self, response: execution_pb2.ReportExecutionResponse) -> Path | None:
        """Keep the signed checkpoint of the report's audit event beside the spool
        (``<state dir>/checkpoints/<sequence>.json``): the outside anchor for
        ``sqlgate audit verify --checkpoint``."""
        if not response.HasField("checkpoint"):
            return None
        return keep(self.directory.parent / "checkpoints", response.checkpoint)

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"))

    def read(self, path: Path) -> execution_pb2.ReportExecutionRequest:
        request = execution_pb2.ReportExecutionRequest()
        json_format.Parse(path.read_text(encoding="utf-8"), request)
        if f"{request.report_id}.json" != path.name:
            raise ValueError(f"{path}: report_id {request.report_id!r} does not match the name")
        return request


def connection_lost(exc: BaseException) -> RunResult:
    """The result of a run whose target connection died mid-run (server crash, backend
    terminated, network): exit 22, reported ``failed``. What committed before is in the
    history table; the rerun resumes there."""
    error = DatabaseUnavailable(
        f"the connection to the target database was lost during the run: "
        f"{str(exc).strip() or type(exc).__name__}; statements committed before are "
        "recorded in the history table, the rerun resumes after them"
    )
    result = RunResult(error=error)
    result.finished_at = datetime.now(UTC)
    return result


def deliver(
    remote: Remote,
    spool: Spool,
    request: execution_pb2.ReportExecutionRequest,
    out: TextIO | None = None,
) -> int | None:
    """Spool the report (replacing a started one of the same id), send it, and delete it
    once acknowledged. The audit sequence, or None when it stays spooled."""
    path = spool.write(request)
    try:
        response = remote.report_response(request)
    except ServerUnavailable as exc:
        print(f"report not delivered ({exc}); spooled to {path}", file=out or sys.stderr)
        return None
    spool.keep_checkpoint(response)
    path.unlink(missing_ok=True)
    return response.audit_sequence


def retry_spooled(remote: Remote, spool: Spool, out: TextIO | None = None) -> tuple[int, int]:
    """Resend spooled reports, deleting each one the server acknowledged.

    Returns (delivered, still pending). A spool file that cannot be parsed is kept and
    reported: it is evidence, not garbage.
    """
    stream = out or sys.stderr
    delivered = 0
    pending = spool.pending()
    for path in pending:
        try:
            request = spool.read(path)
        except (ValueError, json.JSONDecodeError, json_format.ParseError, OSError) as exc:
            print(f"spooled report {path} is unreadable, kept: {exc}", file=stream)
            continue
        try:
            response = remote.report_response(request)
        except ServerUnavailable as exc:
            print(f"spooled report {path.name} still not delivered: {exc}", file=stream)
            continue
        spool.keep_checkpoint(response)
        path.unlink()
        delivered += 1
        print(f"delivered spooled report {request.report_id}", file=stream)
    return delivered, len(spool.pending())
