"""Turn a CheckResponse into the result dict every renderer and ``--format json`` use.

The dict is the public JSON shape of a check::

    {"decision": "allow"|"needs_approval"|"deny",
     "findings": [{"rule", "level", "file", "line", "column", "message", "help",
                   "approver_role" (only when the finding names one)}],
     "statements": N, "policy_digest": "sha256:...",
     "suppressions": [{"rule", "file", "line", "reason", "scope"}]}

The server-side ``ReviewResult.to_json()`` produces the same dict for ``--local``;
the integration tests compare the two byte for byte. An enum value this client does
not know (or UNSPECIFIED) is a protocol error, never read as an allow.
"""

from __future__ import annotations

import json
from typing import Any

from sqlgate_client.checkpoints import checkpoint_dict
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2

DECISIONS: dict[int, str] = {
    common_pb2.DECISION_ALLOW: "allow",
    common_pb2.DECISION_NEEDS_APPROVAL: "needs_approval",
    common_pb2.DECISION_DENY: "deny",
}
LEVELS: dict[int, str] = {
    common_pb2.LEVEL_WARN: "warn",
    common_pb2.LEVEL_APPROVAL: "approval",
    common_pb2.LEVEL_DENY: "deny",
}
DECISION_VALUES: dict[str, int] = {v: k for k, v in DECISIONS.items()}
LEVEL_VALUES: dict[str, int] = {v: k for k, v in LEVELS.items()}


class ResponseError(ValueError):
    """The server's answer cannot be understood; callers must treat it as a failure."""


def finding_to_dict(finding: review_pb2.Finding) -> dict[str, Any]:
    level = LEVELS.get(finding.level)
    if level is None:
        raise ResponseError(f"finding {finding.rule!r} has an unknown level {finding.level}")
    out: dict[str, Any] = {
        "rule": finding.rule,
        "level": level,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "message": finding.message,
        "help": finding.help,
    }
    if finding.approver_role:
        out["approver_role"] = finding.approver_role
    return out


def response_to_dict(response: review_pb2.CheckResponse) -> dict[str, Any]:
    """The result dict for one CheckResponse (keys in the documented order)."""
    decision = DECISIONS.get(response.decision)
    if decision is None:
        raise ResponseError(f"server returned an unknown decision {response.decision}")
    result: dict[str, Any] = {
        "decision": decision,
        "findings": [finding_to_dict(f) for f in response.findings],
        "statements": response.statements,
        "policy_digest": response.policy_digest,
        "suppressions": [
            {"rule": s.rule, "file": s.file, "line": s.line, "reason": s.reason, "scope": s.scope}
            for s in response.suppressions
        ],
        "impact": [
            {
                "file": i.file,
                "line": i.line,
                "kind": i.kind,
                "objects": list(i.objects),
                "lock": i.lock or None,
                "table_rows": None if i.table_rows < 0 else i.table_rows,
                "table_bytes": None if i.table_bytes < 0 else i.table_bytes,
                "measured": (
                    {
                        "evidence_id": i.measured.evidence_id,
                        "environment": i.measured.environment,
                        "duration_ms": i.measured.duration_ms,
                        "rows": i.measured.rows,
                        "locks": list(i.measured.locks),
                        "rewrites": list(i.measured.rewrites),
                    }
                    if i.HasField("measured")
                    else None
                ),
            }
            for i in response.impact
        ],
        "reviewed_files": list(response.reviewed_files),
        "context_files": list(response.context_files),
        "server_version": response.server_version,
        "server_version_source": response.server_version_source,
    }
    if response.verdict_id:
        # The signed verdict, as a JSON object (the DSSE envelope the server returned).
        try:
            envelope = json.loads(response.verdict)
        except ValueError as exc:
            raise ResponseError(f"server returned a verdict that is not JSON: {exc}") from exc
        result["verdict_id"] = response.verdict_id
        result["verdict"] = envelope
    if response.HasField("checkpoint"):
        # Keep it: the outside anchor for `sqlgate audit verify --checkpoint` (docs/audit.md).
        result["audit_checkpoint"] = checkpoint_dict(response.checkpoint)
    return result
