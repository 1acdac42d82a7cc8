"""Offline verification of a sqlgate verdict: an in-toto Statement v1 in a DSSE envelope.

The statement's subjects bind the verdict to the exact bytes reviewed (sha256 of each
migration file as submitted), so a verifier that has the files re-hashes them: one
changed byte, CRLF instead of LF or an added BOM is a different file, and a file
missing from, or added to, the set is refused too. The predicate's ``binding``
(``sqlgate_client.trust.binding``) says how those bytes become statements: order,
dialect, template expansion, statement spans, lexer settings, target identity. A
verdict without one is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlgate_client.errors import ClaimError, DigestMismatch, TokenExpired
from sqlgate_client.trust.binding import Binding, parse_binding
from sqlgate_client.trust.dsse import INTOTO_PAYLOAD_TYPE, verify_envelope
from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.strictjson import loads_strict

STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE: Final = "https://sqlgate.dev/verdict/v1"
DECISIONS: Final = ("allow", "needs_approval", "deny")
PREDICATE_FIELDS: Final = frozenset(
    {
        "verdict_id",
        "decision",
        "findings",
        "environment",
        "target",
        "repo",
        "commit",
        "policy_digest",
        "approvals",
        "issued_at",
        "expires_at",
        "audit_sequence",
        "supersedes",
        "binding",
    }
)
# Optional: verdicts issued before pending sets existed have no "context".
OPTIONAL_PREDICATE_FIELDS: Final = frozenset({"context"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_hex(data: bytes) -> str:
    """The digest a subject records: sha256 over the exact bytes, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with seconds, as written into statements and tokens."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: object, what: str) -> datetime:
    """A timezone-aware ISO 8601 timestamp, or ClaimError naming ``what``."""
    if not isinstance(value, str):
        raise ClaimError(f"{what} must be an RFC 3339 timestamp string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ClaimError(f"{what} {value!r} is not an RFC 3339 timestamp") from exc
    if moment.tzinfo is None:
        raise ClaimError(f"{what} {value!r} has no timezone")
    return moment


@dataclass(frozen=True)
class VerdictInfo:
    """A verified verdict: the predicate's fields plus the subjects' digests."""

    verdict_id: str
    decision: str
    environment: str
    target: str
    repo: str | None
    commit: str | None
    policy_digest: str
    digests: Mapping[str, str]  # path -> sha256 hex
    findings: list[Any]
    approvals: list[Any]
    issued_at: datetime
    expires_at: datetime
    audit_sequence: int | None
    supersedes: str | None
    statement: Mapping[str, Any]
    binding: Binding
    # Already-applied files the review replayed but did not review: path -> sha256 hex.
    # The runner applies only ``digests`` (the reviewed files), never these.
    context: Mapping[str, str] = field(default_factory=dict)


def _str(predicate: Mapping[str, Any], name: str, *, optional: bool = False) -> Any:
    value = predicate[name]
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ClaimError(f"verdict predicate.{name} must be a non-empty string")
    return value


def parse_statement(statement: Any) -> VerdictInfo:
    """Check the statement's shape and types; return its fields (no signature check)."""
    if not isinstance(statement, dict) or set(statement) != {
        "_type",
        "subject",
        "predicateType",
        "predicate",
    }:
        raise ClaimError("verdict: expected exactly _type, subject, predicateType, predicate")
    if statement["_type"] != STATEMENT_TYPE:
        raise ClaimError(f"verdict _type {statement['_type']!r} is not {STATEMENT_TYPE}")
    if statement["predicateType"] != PREDICATE_TYPE:
        raise ClaimError(f"verdict predicateType {statement['predicateType']!r} is not ours")
    subjects = statement["subject"]
    if not isinstance(subjects, list) or not subjects:
        raise ClaimError("verdict subject must be a non-empty list")
    digests: dict[str, str] = {}
    for i, subject in enumerate(subjects):
        if (
            not isinstance(subject, dict)
            or set(subject) != {"name", "digest"}
            or not isinstance(subject["name"], str)
            or not isinstance(subject["digest"], dict)
            or set(subject["digest"]) != {"sha256"}
            or not isinstance(subject["digest"]["sha256"], str)
            or not _SHA256.fullmatch(subject["digest"]["sha256"])
        ):
            raise ClaimError(f"verdict subject {i} must be {{name, digest: {{sha256: hex}}}}")
        if subject["name"] in digests:
            raise ClaimError(f"verdict subject {subject['name']!r} appears twice")
        digests[subject["name"]] = subject["digest"]["sha256"]
    predicate = statement["predicate"]
    present = set(predicate) if isinstance(predicate, dict) else set()
    if not isinstance(predicate, dict) or not (
        PREDICATE_FIELDS <= present <= PREDICATE_FIELDS | OPTIONAL_PREDICATE_FIELDS
    ):
        missing = sorted(PREDICATE_FIELDS - present)
        extra = sorted(present - PREDICATE_FIELDS - OPTIONAL_PREDICATE_FIELDS)
        raise ClaimError(f"verdict predicate fields: missing {missing}, unexpected {extra}")
    context = predicate.get("context", {})
    if not isinstance(context, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and _SHA256.fullmatch(v)
        for k, v in context.items()
    ):
        raise ClaimError("verdict predicate.context must map paths to sha256 hex digests")
    if set(context) & set(digests):
        raise ClaimError("verdict predicate.context names a file that is also a subject")
    if predicate["decision"] not in DECISIONS:
        raise ClaimError(f"verdict decision {predicate['decision']!r} is not one of {DECISIONS}")
    for name in ("findings", "approvals"):
        if not isinstance(predicate[name], list):
            raise ClaimError(f"verdict predicate.{name} must be a list")
    sequence = predicate["audit_sequence"]
    if sequence is not None and (type(sequence) is not int or sequence < 0):
        raise ClaimError("verdict predicate.audit_sequence must be a non-negative integer")
    binding = parse_binding(predicate["binding"])
    bound = {f.path: f.sha256 for f in binding.files}
    if bound != digests:
        raise ClaimError("verdict binding files are not the verdict's subjects")
    issued_at = parse_time(predicate["issued_at"], "verdict issued_at")
    expires_at = parse_time(predicate["expires_at"], "verdict expires_at")
    if expires_at <= issued_at:
        raise ClaimError("verdict expires_at is not after issued_at")
    return VerdictInfo(
        verdict_id=_str(predicate, "verdict_id"),
        decision=predicate["decision"],
        environment=_str(predicate, "environment"),
        target=_str(predicate, "target"),
        repo=_str(predicate, "repo", optional=True),
        commit=_str(predicate, "commit", optional=True),
        policy_digest=_str(predicate, "policy_digest"),
        digests=digests,
        findings=predicate["findings"],
        approvals=predicate["approvals"],
        issued_at=issued_at,
        expires_at=expires_at,
        audit_sequence=sequence,
        supersedes=_str(predicate, "supersedes", optional=True),
        statement=statement,
        binding=binding,
        context=dict(context),
    )


def check_files(digests: Mapping[str, str], files: Mapping[str, bytes]) -> None:
    """Every subject present with identical bytes, and no file the verdict did not cover."""
    missing = sorted(set(digests) - set(files))
    if missing:
        raise DigestMismatch(f"files reviewed by the verdict are missing: {missing}")
    extra = sorted(set(files) - set(digests))
    if extra:
        raise DigestMismatch(f"files not covered by the verdict: {extra}")
    for path in sorted(digests):
        actual = sha256_hex(files[path])
        if actual != digests[path]:
            raise DigestMismatch(
                f"{path}: sha256 {actual} is not the reviewed {digests[path]} "
                "(the bytes changed since review)"
            )


def verify_verdict(
    envelope: bytes,
    keyset: PublicKeyset,
    *,
    files: Mapping[str, bytes] | None = None,
    now: datetime | None = None,
    leeway_s: int = 60,
) -> VerdictInfo:
    """Verify signature (pinned verdict key), statement shape, validity window and, when
    ``files`` (path -> exact bytes) is given, that they are exactly the reviewed files.

    Raises SignatureError, KeyRefused, ClaimError, TokenExpired or DigestMismatch.
    """
    payload = verify_envelope(envelope, keyset, INTOTO_PAYLOAD_TYPE, purpose="verdict")
    info = parse_statement(loads_strict(payload, what="verdict statement", error=ClaimError))
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if moment >= info.expires_at:
        raise TokenExpired(f"verdict {info.verdict_id} expired at {format_time(info.expires_at)}")
    if info.issued_at > moment + timedelta(seconds=leeway_s):
        raise TokenExpired(
            f"verdict {info.verdict_id} is issued in the future ({format_time(info.issued_at)})"
        )
    if files is not None:
        check_files(info.digests, files)
    return info
