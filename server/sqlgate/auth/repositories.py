"""The repository a Check is about, from the authenticated principal's binding.

Repository overrides in policy data (policies/data/repos.yaml) relax or tighten rules per
repository, so the repository must not be whatever the client says: a CI principal is
bound in server config to the repositories it may check, and the policy's ``input.repo``
is resolved here. A refusal is PERMISSION_DENIED with an ``auth_failed`` audit event.
"""

from __future__ import annotations

import dataclasses

from sqlgate.audit.log import AuditLog
from sqlgate.auth.authorize import deny
from sqlgate.auth.principal import Principal
from sqlgate.config import ServerConfig


@dataclasses.dataclass(frozen=True)
class ResolvedRepo:
    """``policy``: what the policy sees as input.repo ("" = no repository, org policy
    only); ``recorded``: what the verdict records (the bound repository, or for an
    unbound principal under ``org-policy`` the caller's unverified claim)."""

    policy: str
    recorded: str


def resolve_repo(
    config: ServerConfig, audit: AuditLog, principal: Principal, requested: str
) -> ResolvedRepo:
    """The bound repository for this Check; PermissionDenied when the claim is not bound."""
    body = config.principal(principal.id)
    bound = body.repositories if body is not None else ()
    if not bound:
        if config.unbound_repository == "refuse":
            raise deny(
                audit,
                principal,
                "check",
                f"{principal.id} is bound to no repository (unbound_repository: refuse)",
                repo=requested,
            )
        return ResolvedRepo(policy="", recorded=requested)
    if requested:
        if requested not in bound:
            raise deny(
                audit,
                principal,
                "check",
                f"{principal.id} may not check repository {requested!r}: "
                f"bound to {', '.join(bound)}",
                repo=requested,
            )
        return ResolvedRepo(policy=requested, recorded=requested)
    if len(bound) > 1:
        raise deny(
            audit,
            principal,
            "check",
            f"{principal.id} is bound to several repositories ({', '.join(bound)}): "
            "name one with --repo",
        )
    return ResolvedRepo(policy=bound[0], recorded=bound[0])
