"""The engine interface: policy input in, validated `PolicyResult` out (docs/contract.md §3).

Whatever an engine returns passes through `parse_result`, which refuses anything that is
not exactly the contract: a malformed result is a PolicyEvaluationError, never an allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlgate.errors import PolicyEvaluationError

DECISIONS = ("allow", "needs_approval", "deny")
LEVELS = ("warn", "approval", "deny")
RESULT_RULE = "data.sqlgate.main.result"


@dataclass(frozen=True)
class PolicyFinding:
    """One finding: which rule, how serious here, and where."""

    rule: str
    level: str
    statement: int
    file: str
    line: int
    column: int
    message: str
    help: str
    # Who must approve (e.g. "security" for privileged-* rules); None when any approver may.
    approver_role: str | None = None


@dataclass(frozen=True)
class PolicyResult:
    """The decision and its findings, in the engine's deterministic order."""

    decision: str
    findings: list[PolicyFinding]
    # Findings a ``sqlgate:ignore`` comment silenced: {rule, file, line, reason, scope}.
    suppressions: list[dict[str, Any]] = field(default_factory=list)
    # The digest of the policy that produced this result, when the engine can change
    # policy between evaluations (sqlgate.policy.reload); not part of equality.
    policy_digest: str | None = field(default=None, compare=False)


class Engine(Protocol):
    """A policy engine. Implementations raise PolicyEvaluationError (or PolicyTimeout)."""

    @property
    def policy_digest(self) -> str:
        """Digest of the policy set that produces the results ("sha256:<hex>")."""
        ...

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """Evaluate `data.sqlgate.main.result` for `policy_input`."""
        ...


def engine_error_text(exc: BaseException) -> str:
    """An engine exception's message without the Rust backtrace regorus appends."""
    text = str(exc).split("Stack backtrace:", 1)[0].strip()
    return text or type(exc).__name__


def _field(raw: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = raw.get(key)
    # bool is an int in Python: never accept it where a number is expected.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PolicyEvaluationError(
            f"malformed policy result: {where}.{key} must be {kind.__name__}, got {value!r}"
        )
    return value


def _finding(raw: Any, where: str) -> PolicyFinding:
    if not isinstance(raw, Mapping):
        raise PolicyEvaluationError(f"malformed policy result: {where} is not an object")
    finding = PolicyFinding(
        rule=_field(raw, "rule", str, where),
        level=_field(raw, "level", str, where),
        statement=_field(raw, "statement", int, where),
        file=_field(raw, "file", str, where),
        line=_field(raw, "line", int, where),
        column=_field(raw, "column", int, where),
        message=_field(raw, "message", str, where),
        help=_field(raw, "help", str, where),
        approver_role=_field(raw, "approver_role", str, where) if "approver_role" in raw else None,
    )
    if finding.level not in LEVELS:
        raise PolicyEvaluationError(
            f"malformed policy result: {where}.level {finding.level!r} is not one of {LEVELS}"
        )
    return finding


def expected_decision(findings: list[PolicyFinding]) -> str:
    """deny if any finding is deny, else needs_approval if any is approval, else allow."""
    levels = {f.level for f in findings}
    if "deny" in levels:
        return "deny"
    if "approval" in levels:
        return "needs_approval"
    return "allow"


def parse_result(raw: Any) -> PolicyResult:
    """Validate an engine's raw result against the contract; PolicyEvaluationError if not."""
    if not isinstance(raw, Mapping):
        raise PolicyEvaluationError(
            f"policy result is not an object (got {raw!r:.200}); is sqlgate.main defined?"
        )
    decision = raw.get("decision")
    if decision not in DECISIONS:
        raise PolicyEvaluationError(f"malformed policy result: decision {decision!r}")
    raw_findings = raw.get("findings")
    if not isinstance(raw_findings, list):
        raise PolicyEvaluationError("malformed policy result: findings is not a list")
    findings = [_finding(f, f"findings[{i}]") for i, f in enumerate(raw_findings)]
    if decision != expected_decision(findings):
        raise PolicyEvaluationError(
            f"inconsistent policy result: decision {decision!r} but findings call for "
            f"{expected_decision(findings)!r}"
        )
    return PolicyResult(
        decision=decision, findings=findings, suppressions=_suppressions(raw.get("suppressions"))
    )


_SUPPRESSION_FIELDS = {"rule": str, "file": str, "line": int, "reason": str, "scope": str}


def _suppressions(raw: Any) -> list[dict[str, Any]]:
    """The applied suppressions (absent: none); each must be exactly the documented shape."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PolicyEvaluationError("malformed policy result: suppressions is not a list")
    out = []
    for i, item in enumerate(raw):
        where = f"suppressions[{i}]"
        if not isinstance(item, Mapping):
            raise PolicyEvaluationError(f"malformed policy result: {where} is not an object")
        out.append({k: _field(item, k, kind, where) for k, kind in _SUPPRESSION_FIELDS.items()})
        if not out[-1]["reason"].strip() or out[-1]["scope"] not in ("statement", "file"):
            raise PolicyEvaluationError(f"malformed policy result: {where} reason/scope")
    return out
