"""Rehearsal evidence: a runner's rehearsal result, bound to a verdict, recorded, audited.

``SubmitRehearsal`` takes the JSON report of ``sqlgate-runner rehearse`` for a verdict.
It is accepted only if the caller holds ``runner`` in the verdict's environment and the
report covers exactly the verdict's files — same paths, same sha256, in the order given
— so evidence can only ever describe the bytes that were reviewed. The server keeps a
bounded summary (what rules read), records it with the verdict's environment and target
and the scratch data size, and audits it (``rehearsal_evidence``) in one unit. Later
checks of exactly those files (same ordered digests, any environment) see every such
record in ``input.evidence`` (docs/contract.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlgate.errors import Conflict, ExecutionRefused, NotFound
from sqlgate.execution import RUNNER_ROLE, Caller, Execution
from sqlgate.store.base import RehearsalRecord

MAX_REPORT_BYTES = 8 * 1024 * 1024
MAX_STATEMENTS = 5000
MAX_LINES = 200
KIND = "rehearsal_evidence"


@dataclass(frozen=True)
class Submitted:
    audit_sequence: int
    passed: bool


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else -1


def summarize(report: Mapping[str, Any]) -> dict[str, Any]:
    """The bounded part of a rehearsal report that policies read (see docs/contract.md)."""
    statements = []
    for s in list(report.get("statements") or [])[:MAX_STATEMENTS]:
        if not isinstance(s, Mapping):
            raise ValueError("statements[] must be objects")
        statements.append(
            {
                "file": str(s.get("file") or ""),
                "line": _int(s.get("line")),
                "outcome": str(s.get("outcome") or ""),
                "duration_ms": _num(s.get("duration_ms")),
                "rows": _int(s.get("rows")),
                "locks": [
                    {
                        "relation": str(lk.get("relation") or ""),
                        "mode": str(lk.get("mode") or ""),
                        "held_ms": _num(lk.get("held_ms")),
                        "created": lk.get("created") is True,
                        "until": str(lk.get("until") or ""),
                    }
                    for lk in s.get("locks") or []
                    if isinstance(lk, Mapping)
                ],
                "rewrites": [
                    {
                        "relation": str(w.get("relation") or ""),
                        "kind": str(w.get("kind") or ""),
                        "bytes_after": _int(w.get("bytes_after")),
                    }
                    for w in s.get("rewrites") or []
                    if isinstance(w, Mapping)
                ],
                "chunks": len(s.get("chunks") or []),
            }
        )
    rollback = report.get("rollback") if isinstance(report.get("rollback"), Mapping) else {}
    assert isinstance(rollback, Mapping)
    reconciliation = [o for o in report.get("reconciliation") or [] if isinstance(o, Mapping)]
    seed = report.get("seed") if isinstance(report.get("seed"), Mapping) else {}
    assert isinstance(seed, Mapping)
    return {
        "error": str(report.get("error") or ""),
        "statements": statements,
        "rollback": {
            "status": str(rollback.get("status") or "not run"),
            "diff": [str(x) for x in rollback.get("diff") or []][:MAX_LINES],
            "missing": [str(x) for x in rollback.get("missing") or []][:MAX_LINES],
            "error": str(rollback.get("error") or ""),
        },
        "reconciliation_failed": [
            f"{o.get('file')} {o.get('check')} {o.get('phase')}: before {o.get('before')}, "
            f"after {o.get('after')}"
            for o in reconciliation
            if o.get("passed") is not True
        ][:MAX_LINES],
        "reconciliation_checks": len(reconciliation),
        "data": {"rows": _int(seed.get("total_rows")), "bytes": _int(seed.get("total_bytes"))},
        "server_version": _int(report.get("server_version")),
    }


def passed(summary: Mapping[str, Any]) -> bool:
    rollback = summary["rollback"]
    return (
        not summary["error"]
        and rollback["status"] != "failed"
        and not summary["reconciliation_failed"]
    )


class Rehearsals:
    """``SubmitRehearsal`` over the execution use cases' store, audit log and roles."""

    def __init__(self, execution: Execution) -> None:
        self.execution = execution

    def _refuse(
        self, principal: Caller, reason: str, message: str, details: Mapping[str, Any]
    ) -> NoReturn:
        self.execution.audit.record(
            f"{KIND}_refused", principal.id, {**details, "reason": reason, "message": message}
        )
        raise ExecutionRefused(reason, message)

    def submit(
        self,
        evidence_id: str,
        verdict_id: str,
        digests: Sequence[tuple[str, str]],
        report: bytes,
        *,
        principal: Caller,
    ) -> Submitted:
        base: dict[str, Any] = {"evidence_id": evidence_id, "verdict_id": verdict_id}
        if not evidence_id or not verdict_id or not digests or not report:
            self._refuse(
                principal,
                "bad_request",
                "evidence_id, verdict_id, digests and the rehearsal report are required",
                base,
            )
        if len(report) > MAX_REPORT_BYTES:
            self._refuse(principal, "bad_request", "rehearsal report too large", base)
        try:
            verdict = self.execution.store.get_verdict(verdict_id)
        except NotFound:
            self._refuse(principal, "verdict_not_found", f"no verdict {verdict_id}", base)
        base |= {"environment": verdict.environment, "target": verdict.target}
        if not self.execution.has_role(principal, RUNNER_ROLE, verdict.environment):
            self._refuse(
                principal,
                "not_runner",
                f"{principal.id} does not hold the {RUNNER_ROLE!r} role in {verdict.environment!r}",
                base,
            )
        ordered = tuple((str(p), str(d)) for p, d in digests)
        if dict(ordered) != dict(verdict.digests) or len(dict(ordered)) != len(ordered):
            self._refuse(
                principal,
                "digest_mismatch",
                f"the rehearsed files are not exactly verdict {verdict_id}'s: rehearsed "
                f"{sorted(dict(ordered).items())}, reviewed {sorted(verdict.digests.items())}",
                base,
            )
        try:
            doc = json.loads(report)
            if not isinstance(doc, Mapping):
                raise ValueError("the report must be a JSON object")
            files = [(str(f["path"]), str(f["sha256"])) for f in doc.get("files") or []]
            summary = summarize(doc)
        except (ValueError, KeyError, TypeError) as exc:
            self._refuse(principal, "bad_request", f"unreadable rehearsal report: {exc}", base)
        if tuple(files) != ordered:
            self._refuse(
                principal,
                "digest_mismatch",
                "the report's files are not the submitted digests in the same order",
                base,
            )
        now = self.execution.clock()
        ok = passed(summary)
        summary = {
            "kind": "rehearsal",
            "evidence_id": evidence_id,
            "verdict_id": verdict_id,
            "environment": verdict.environment,
            "target": verdict.target,
            "passed": ok,
            **summary,
        }
        record = RehearsalRecord(
            evidence_id=evidence_id,
            verdict_id=verdict_id,
            environment=verdict.environment,
            target=verdict.target,
            digests=ordered,
            passed=ok,
            summary=summary,
            principal=principal.id,
            at=now,
        )
        audited = {
            **base,
            "passed": ok,
            "rollback": summary["rollback"]["status"],
            "reconciliation_failed": len(summary["reconciliation_failed"]),
            "data_rows": summary["data"]["rows"],
            "data_bytes": summary["data"]["bytes"],
        }
        try:
            with self.execution.audit.atomic() as unit:
                new = unit.store.record_rehearsal(record)
                if new:
                    event = unit.record(KIND, principal.id, audited)
        except Conflict as exc:
            self._refuse(principal, "report_conflict", str(exc), base)
        if new:
            return Submitted(event.sequence, ok)
        for found in self.execution.store.iter_audit():
            if found.kind == KIND and found.details.get("evidence_id") == evidence_id:
                return Submitted(found.sequence, ok)
        raise AssertionError("recorded rehearsal without its audit event")  # pragma: no cover
