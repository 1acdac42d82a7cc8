"""What an environment requires before a token, beyond what the policy decides.

``approvals.environments.<env>.always: true`` makes every verdict in that environment
need human approval even when the policy allows: the check adds one ``approval``
finding, ``approval-required-by-environment``, whose message says what is needed
("needs: approval"). Being an ordinary approval finding, it is satisfied exactly like
the policy's own (``approvers`` distinct non-author approvers, or a live break-glass),
and every later re-decision (Approve, IssueExecutionToken) sees it in the signed
verdict's findings — nothing re-reads the config to know it was required.
"""

from __future__ import annotations

import dataclasses

from sqlgate.config import EnvironmentRules
from sqlgate.review import Finding, ReviewResult

ALWAYS_RULE = "approval-required-by-environment"


def apply_requirements(
    result: ReviewResult, *, environment: str, rules: EnvironmentRules
) -> ReviewResult:
    """``result`` with the environment's own requirements added as findings."""
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
