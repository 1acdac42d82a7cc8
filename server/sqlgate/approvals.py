"""What a verdict's findings need, and whether the approvals on its chain provide it.

Per environment (``approvals.environments`` in config): an ``approval`` finding needs
``approvers`` distinct principals holding ``approver`` who are not the author; a finding
from a destructive gate (``approvals.destructive_rules``) needs a live break-glass
approval (operator, written reason, not expired, not consumed) unless the environment
turns that off; a ``deny`` finding stays a deny unless the environment lets break-glass
override denies. A policy-engine failure is never overridable. A finding that names an
``approver_role`` R (e.g. ``security`` for privileged statements) needs an approval
recorded with role R (Approve checks it is held in the verdict's environment) by someone
other than the author; neither an ordinary approver nor break-glass stands in for it.
The decision is always re-computed from the original findings and every approval on
the chain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlgate.config import EnvironmentRules
from sqlgate.review import ENGINE_ERROR_RULE
from sqlgate.store.base import ApprovalRecord, Store, VerdictRecord

NEVER_OVERRIDABLE = frozenset({ENGINE_ERROR_RULE})
# Roles an ordinary (not break-glass) Approve is recorded with, one approval per role held.
APPROVAL_ROLES = ("approver", "security")


@dataclasses.dataclass(frozen=True)
class Requirement:
    """The outcome for a set of findings and approvals, and what is still missing."""

    decision: str
    missing: tuple[str, ...]


def live_break_glass(approvals: Sequence[ApprovalRecord], now: datetime) -> list[ApprovalRecord]:
    """Break-glass approvals that are neither expired nor already used."""
    return [
        a
        for a in approvals
        if a.break_glass and a.consumed_at is None and a.expires_at > now and a.role == "operator"
    ]


def _role_approved(
    approvals: Sequence[ApprovalRecord], role: str, author: str, now: datetime
) -> bool:
    """Whether a live, non-break-glass approval was recorded with ``role`` by a non-author."""
    return any(
        not a.break_glass and a.role == role and a.principal != author and a.expires_at > now
        for a in approvals
    )


def decide(
    findings: Sequence[Mapping[str, Any]],
    approvals: Sequence[ApprovalRecord],
    *,
    rules: EnvironmentRules,
    destructive_rules: Collection[str],
    author: str,
    now: datetime,
) -> Requirement:
    """Re-compute the decision from the findings and the chain's approvals."""
    glass = bool(live_break_glass(approvals, now))
    approvers = {
        a.principal
        for a in approvals
        if not a.break_glass
        and a.role == "approver"
        and a.principal != author
        and a.expires_at > now
    }
    denied: list[str] = []
    missing: list[str] = []
    for f in findings:
        rule, level = str(f.get("rule", "")), str(f.get("level", "deny"))
        needs_role = f.get("approver_role")
        if level == "warn":
            continue
        if level != "approval":  # deny, or anything not understood
            if not (glass and rules.break_glass_overrides_deny and rule not in NEVER_OVERRIDABLE):
                denied.append(rule)
        elif needs_role is not None:
            if not (isinstance(needs_role, str) and needs_role):
                denied.append(rule)  # not understood: fail closed
            elif not _role_approved(approvals, needs_role, author, now):
                missing.append(
                    f"{rule}: {needs_role} approval missing (a principal holding role "
                    f"{needs_role!r} in this environment, not the author)"
                )
        elif rule in destructive_rules and rules.destructive_break_glass:
            if not glass:
                missing.append(f"{rule}: operator break-glass approval")
        elif not glass and len(approvers) < rules.approvers:
            missing.append(f"{rule}: {rules.approvers} approver(s), have {len(approvers)}")
    if denied:
        return Requirement("deny", tuple(f"{r}: deny" for r in sorted(set(denied))))
    if missing:
        return Requirement("needs_approval", tuple(sorted(set(missing))))
    return Requirement("allow", ())


def chain(store: Store, verdict_id: str) -> list[VerdictRecord]:
    """The verdict and every verdict it supersedes, newest first."""
    out = [store.get_verdict(verdict_id)]
    while out[-1].supersedes is not None:
        out.append(store.get_verdict(out[-1].supersedes))
    return out


def chain_approvals(store: Store, verdict_id: str) -> list[ApprovalRecord]:
    """Every approval recorded on the verdict's chain, oldest first."""
    found = [a for v in chain(store, verdict_id) for a in store.list_approvals(v.verdict_id)]
    return sorted(found, key=lambda a: (a.created_at, a.approval_id))


def consume_break_glass(store: Store, verdict_id: str, now: datetime) -> ApprovalRecord | None:
    """Use up the chain's live break-glass approval (single use), for token issuance.

    Returns the consumed approval, or None when the chain has no live one; a concurrent
    consumer loses with Conflict from the store's atomic update.
    """
    live = live_break_glass(chain_approvals(store, verdict_id), now)
    if not live:
        return None
    return store.consume_break_glass(live[0].approval_id, now)


@dataclasses.dataclass(frozen=True)
class GlassAtIssue:
    """What token issuance must do about break-glass for one allowed verdict.

    ``consume`` is the live break-glass approval the allow depends on (to be used up
    with the token); ``refusal`` is ``(reason, message)`` when the allow depended on a
    break-glass that is expired or already used, so the verdict is no longer allowed.
    """

    consume: ApprovalRecord | None = None
    refusal: tuple[str, str] | None = None


def break_glass_at_issue(
    findings: Sequence[Mapping[str, Any]],
    approvals: Sequence[ApprovalRecord],
    *,
    digests: Mapping[str, str],
    rules: EnvironmentRules,
    destructive_rules: Collection[str],
    author: str,
    now: datetime,
) -> GlassAtIssue:
    """Whether the verdict's allow rests on a break-glass approval, and if so which one.

    Only approvals bound to the verdict's exact digests count. If the findings are
    allowed without any break-glass, nothing is consumed; otherwise the allow needs a
    live break-glass (single use: issuing the token consumes it), and an expired or used
    one makes the verdict no longer allowed.
    """
    bound = [a for a in approvals if dict(a.digests) == dict(digests)]
    glass = [a for a in bound if a.break_glass and a.role == "operator"]
    if not glass:
        return GlassAtIssue()
    plain = [a for a in bound if not a.break_glass]
    kw: dict[str, Any] = {
        "rules": rules,
        "destructive_rules": destructive_rules,
        "author": author,
        "now": now,
    }
    if decide(findings, plain, **kw).decision == "allow":
        return GlassAtIssue()
    live = live_break_glass(bound, now)
    if live:
        outcome = decide(findings, [*plain, live[0]], **kw)
        if outcome.decision == "allow":
            return GlassAtIssue(consume=live[0])
        return GlassAtIssue(
            refusal=(
                "verdict_not_allowed",
                f"re-evaluated at token time the verdict is {outcome.decision!r} "
                f"({'; '.join(outcome.missing)})",
            )
        )
    used = [a for a in glass if a.consumed_at is not None]
    if used:
        a = used[-1]
        assert a.consumed_at is not None
        return GlassAtIssue(
            refusal=(
                "break_glass_used",
                f"break-glass approval {a.approval_id} by {a.principal} was already used "
                f"for a token at {a.consumed_at.isoformat()} (single use); another run "
                "needs a new break-glass approval",
            )
        )
    a = glass[-1]
    return GlassAtIssue(
        refusal=(
            "break_glass_expired",
            f"break-glass approval {a.approval_id} by {a.principal} expired at "
            f"{a.expires_at.isoformat()}; the verdict is no longer allowed without it",
        )
    )


def approval_json(a: ApprovalRecord) -> dict[str, Any]:
    """An approval as it appears in a verdict predicate."""
    from sqlgate_client.trust.verdict import format_time

    return {
        "approval_id": a.approval_id,
        "principal": a.principal,
        "role": a.role,
        "reason": a.reason,
        "break_glass": a.break_glass,
        "at": format_time(a.created_at),
        "expires_at": format_time(a.expires_at),
    }
