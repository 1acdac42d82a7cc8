"""Issuing signed verdicts: audit event first, then the statement, signature and record.

The audit event's sequence goes into the predicate (``audit_sequence``), so a verdict
points at its place in the tamper-evident log. A verdict is stored exactly as signed,
in one transaction with its audit event and the approvals it carries: a crash leaves
all of them or none (an approved verdict stored without its break-glass approval would
be an allow that nothing consumes).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlgate_client.trust.verdict import VerdictInfo

from sqlgate import faults
from sqlgate.app import App
from sqlgate.audit.log import AuditedUnit
from sqlgate.errors import SignatureError
from sqlgate.store.base import ApprovalRecord, AuditRecord, VerdictRecord
from sqlgate.trust.keys import Signer
from sqlgate.trust.verdict import build_statement, sign_verdict, verify_verdict


@dataclasses.dataclass(frozen=True)
class VerdictDraft:
    """Everything a verdict says, before it gets an id, an audit position and a signature."""

    decision: str
    findings: Sequence[Mapping[str, Any]]
    digests: Mapping[str, str]
    environment: str
    target: str
    repo: str
    commit: str
    policy_digest: str
    author: str
    approvals: Sequence[Mapping[str, Any]]
    expires_at: datetime
    # sqlgate_client.trust.binding in JSON form: order, dialect, spans, expansion, identity.
    binding: Mapping[str, Any]
    supersedes: str | None = None
    # Already-applied files the review replayed, not reviewed: path -> sha256.
    context: Mapping[str, str] = dataclasses.field(default_factory=dict)


def new_verdict_id() -> str:
    return "vrd_" + uuid.uuid4().hex


def issue(
    app: App,
    draft: VerdictDraft,
    *,
    kind: str,
    principal: str,
    details: Mapping[str, Any],
    verdict_id: str | None = None,
    approvals: Sequence[ApprovalRecord] = (),
) -> VerdictRecord:
    """Record the audit event ``kind``, sign the verdict, store it with ``approvals`` (all
    in one transaction); returns the record."""
    return issue_with_event(
        app,
        draft,
        kind=kind,
        principal=principal,
        details=details,
        verdict_id=verdict_id,
        approvals=approvals,
    )[0]


def issue_with_event(
    app: App,
    draft: VerdictDraft,
    *,
    kind: str,
    principal: str,
    details: Mapping[str, Any],
    verdict_id: str | None = None,
    approvals: Sequence[ApprovalRecord] = (),
) -> tuple[VerdictRecord, AuditRecord]:
    """``issue``, also returning the verdict's audit event (to checkpoint it)."""
    verdict_id = verdict_id or new_verdict_id()
    now = app.now()
    signer = app.keyset.signer("verdict")  # before the unit: a key reload audits itself
    with app.audit.atomic() as unit:
        record = _issue_in(
            app,
            unit,
            draft,
            kind=kind,
            principal=principal,
            details=details,
            verdict_id=verdict_id,
            now=now,
            signer=signer,
        )
        if approvals:
            faults.point("approve:verdict-stored")
        for approval in approvals:
            unit.store.add_approval(approval)
    return record, unit.appended[0]


def _issue_in(
    app: App,
    unit: AuditedUnit,
    draft: VerdictDraft,
    *,
    kind: str,
    principal: str,
    details: Mapping[str, Any],
    verdict_id: str,
    now: datetime,
    signer: Signer,
) -> VerdictRecord:
    event = unit.record(
        kind,
        principal,
        {
            "verdict_id": verdict_id,
            "decision": draft.decision,
            "environment": draft.environment,
            "target": draft.target,
            "author": draft.author,
            "files": dict(draft.digests),
            "context_files": dict(draft.context),
            "supersedes": draft.supersedes,
            **details,
        },
    )
    statement = build_statement(
        verdict_id=verdict_id,
        decision=draft.decision,
        digests=draft.digests,
        findings=draft.findings,
        environment=draft.environment,
        target=draft.target,
        repo=draft.repo or None,
        commit=draft.commit or None,
        policy_digest=draft.policy_digest,
        approvals=draft.approvals,
        issued_at=now,
        expires_at=draft.expires_at,
        audit_sequence=event.sequence,
        supersedes=draft.supersedes,
        binding=draft.binding,
        context=draft.context,
    )
    envelope = sign_verdict(statement, signer)
    record = VerdictRecord(
        verdict_id=verdict_id,
        created_at=now,
        expires_at=draft.expires_at,
        environment=draft.environment,
        target=draft.target,
        repo=draft.repo,
        commit=draft.commit,
        decision=draft.decision,
        policy_digest=draft.policy_digest,
        digests=dict(draft.digests),
        author=draft.author,
        envelope=envelope,
        supersedes=draft.supersedes,
    )
    unit.store.put_verdict(record)
    return record


def _signed(app: App, record: VerdictRecord) -> VerdictInfo:
    info = verify_verdict(record.envelope, app.keyset.public_keyset(), now=record.created_at)
    if info.verdict_id != record.verdict_id:
        raise SignatureError(f"stored verdict {record.verdict_id} holds {info.verdict_id}")
    return info


def findings_of(app: App, record: VerdictRecord) -> list[dict[str, Any]]:
    """The findings a stored verdict was signed over (checked against our own keys)."""
    return [dict(f) for f in _signed(app, record).findings]


def binding_of(app: App, record: VerdictRecord) -> dict[str, Any]:
    """The binding a stored verdict was signed over (an approval re-issues it unchanged)."""
    return _signed(app, record).binding.to_json()


def context_of(app: App, record: VerdictRecord) -> dict[str, str]:
    """The context files (already applied, not reviewed) a stored verdict was signed over."""
    return dict(_signed(app, record).context)
