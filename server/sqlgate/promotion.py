"""What an environment requires before a token, beyond what the policy decides.

``approvals.environments.<env>.always: true`` makes every verdict in that environment
need human approval even when the policy allows: the check adds one ``approval``
finding, ``approval-required-by-environment``, whose message says what is needed
("needs: approval"). Being an ordinary approval finding, it is satisfied exactly like
the policy's own (``approvers`` distinct non-author approvers, or a live break-glass),
and every later re-decision (Approve, IssueExecutionToken) sees it in the signed
verdict's findings — nothing re-reads the config to know it was required.

Promotion: with ``approvals.promotion`` (e.g. ``[dev, staging, production]``), an
environment with ``require_rehearsal`` needs a passing rehearsal of exactly these files
(``input.evidence``, sqlgate.evidence) in the environment before it, and with
``require_rollback_test`` one whose rollback test passed. Each unmet requirement is a
``promotion-requirement`` deny finding saying what is needed ("needs: staging
rehearsal"); the check is run again once the evidence exists (approvals cannot stand in
for evidence).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlgate.config import EnvironmentRules
from sqlgate.review import Finding, ReviewResult

ALWAYS_RULE = "approval-required-by-environment"
PROMOTION_RULE = "promotion-requirement"


def _promotion_findings(
    *,
    environment: str,
    rules: EnvironmentRules,
    previous: str | None,
    evidence: Sequence[Mapping[str, Any]],
) -> list[Finding]:
    """One deny finding per promotion requirement the evidence does not meet."""
    if previous is None or not (rules.require_rehearsal or rules.require_rollback_test):
        return []
    there = [
        e for e in evidence if e.get("kind") == "rehearsal" and e.get("environment") == previous
    ]
    passing = [e for e in there if e.get("passed") is True]
    out: list[Finding] = []
    seen = ", ".join(
        f"{e.get('evidence_id')} ({'passed' if e.get('passed') else 'failed'})" for e in there
    )

    def need(what: str, why: str) -> Finding:
        return Finding(
            rule=PROMOTION_RULE,
            level="deny",
            file="",
            line=0,
            column=0,
            message=f"needs: {previous} {what} — {why} (approvals.environments.{environment})",
            help=(
                f"rehearse these exact files for {previous} (sqlgate-runner rehearse --verdict "
                "ID --submit), then check again"
            ),
        )

    if not passing:
        out.append(
            need(
                "rehearsal",
                f"no passing rehearsal of these exact files in {previous!r}"
                + (f"; recorded: {seen}" if seen else ""),
            )
        )
    elif rules.require_rollback_test and not any(
        (e.get("rollback") or {}).get("status") == "passed" for e in passing
    ):
        out.append(
            need(
                "rollback test",
                f"no rehearsal in {previous!r} whose rollback test passed (recorded: {seen})",
            )
        )
    return out


def apply_requirements(
    result: ReviewResult,
    *,
    environment: str,
    rules: EnvironmentRules,
    previous: str | None = None,
    evidence: Sequence[Mapping[str, Any]] = (),
) -> ReviewResult:
    """``result`` with the environment's own requirements added as findings."""
    needs = _promotion_findings(
        environment=environment, rules=rules, previous=previous, evidence=evidence
    )
    if needs:
        result = dataclasses.replace(result, decision="deny", findings=[*result.findings, *needs])
    if not rules.always:
        return result
    finding = Finding(
        rule=ALWAYS_RULE,
        level="approval",
        file="",
        line=0,
        column=0,
        message=(
            f"needs: approval — environment {environment!r} requires {rules.approvers} human "
            "approval(s) before any execution token, even when the policy allows "
            f"(approvals.environments.{environment}.always)"
        ),
        help="ask an approver of this environment (not the author) to run sqlgate approve",
    )
    decision = "needs_approval" if result.decision == "allow" else result.decision
    return dataclasses.replace(result, decision=decision, findings=[*result.findings, finding])
