"""Building and signing verdicts: an in-toto Statement v1 whose subjects are the
reviewed files (sha256 over exact bytes) and whose predicate is sqlgate's decision,
signed in a DSSE envelope with the active verdict key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlgate_client.trust.dsse import INTOTO_PAYLOAD_TYPE
from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.strictjson import dumps_canonical
from sqlgate_client.trust.verdict import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    VerdictInfo,
    format_time,
    parse_statement,
    sha256_hex,
)
from sqlgate_client.trust.verdict import verify_verdict as _verify_verdict

from sqlgate.errors import ClaimError, KeyError_
from sqlgate.trust.dsse import sign_envelope
from sqlgate.trust.errors import server_errors
from sqlgate.trust.keys import Signer

__all__ = ["build_statement", "sha256_hex", "sign_verdict", "verify_verdict"]


def build_statement(
    *,
    verdict_id: str,
    decision: str,
    digests: Mapping[str, str],
    findings: Sequence[Mapping[str, Any]],
    environment: str,
    target: str,
    repo: str | None,
    commit: str | None,
    policy_digest: str,
    approvals: Sequence[Mapping[str, Any]],
    issued_at: datetime,
    expires_at: datetime,
    audit_sequence: int | None,
    supersedes: str | None = None,
    binding: Mapping[str, Any],
    context: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The in-toto statement for one verdict. ``digests`` maps each path as submitted to
    the sha256 hex of its exact bytes (see ``sha256_hex``); ``binding`` is
    ``sqlgate_client.trust.binding`` in JSON form (its files must be the subjects). The
    result is checked with the same parser verifiers use, so an unverifiable statement
    is never signed."""
    statement: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": path, "digest": {"sha256": digests[path]}} for path in sorted(digests)
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verdict_id": verdict_id,
            "decision": decision,
            "findings": [dict(f) for f in findings],
            "environment": environment,
            "target": target,
            "repo": repo,
            "commit": commit,
            "policy_digest": policy_digest,
            "approvals": [dict(a) for a in approvals],
            "issued_at": format_time(issued_at),
            "expires_at": format_time(expires_at),
            "audit_sequence": audit_sequence,
            "supersedes": supersedes,
            "binding": dict(binding),
            # Already-applied files replayed into the model, not reviewed (path -> sha256).
            "context": {path: (context or {})[path] for path in sorted(context or {})},
        },
    }
    with server_errors():
        parse_statement(statement)
    return statement


def sign_verdict(statement: Mapping[str, Any], signer: Signer) -> bytes:
    """Canonical-JSON the statement and sign it in a DSSE envelope (verdict key only)."""
    if signer.purpose != "verdict":
        raise KeyError_(f"{signer.key_id} is a {signer.purpose} key; verdicts need a verdict key")
    with server_errors():
        parse_statement(statement)
    try:
        payload = dumps_canonical(statement)
    except (TypeError, ValueError) as exc:
        raise ClaimError(f"verdict statement is not JSON-serialisable: {exc}") from exc
    return sign_envelope(payload, INTOTO_PAYLOAD_TYPE, signer)


def verify_verdict(
    envelope: bytes,
    keyset: PublicKeyset,
    *,
    files: Mapping[str, bytes] | None = None,
    now: datetime | None = None,
) -> VerdictInfo:
    """``sqlgate_client.trust.verdict.verify_verdict`` raising ``sqlgate.errors`` classes."""
    with server_errors():
        return _verify_verdict(envelope, keyset, files=files, now=now)
