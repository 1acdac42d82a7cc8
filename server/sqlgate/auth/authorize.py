"""Role checks for a known principal; a refusal is PERMISSION_DENIED and an audit event.

Environment-scoped: servicers call ``require_role`` once they know the environment the
call acts on (the request's for Check, the stored verdict's for Approve/GetVerdict).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlgate.audit.log import AuditLog
from sqlgate.auth.principal import Principal
from sqlgate.errors import PermissionDenied
from sqlgate.roles import RoleRules


def deny(
    audit: AuditLog, principal: Principal, action: str, reason: str, **details: object
) -> PermissionDenied:
    """Record an ``auth_failed`` event and return the PermissionDenied to raise."""
    audit.record(
        "auth_failed",
        principal.id,
        {"action": action, "reason": reason, "status": "PERMISSION_DENIED", **details},
    )
    return PermissionDenied(reason)


def require_role(  # noqa: PLR0917 - each argument is a distinct required input
    rules: RoleRules,
    audit: AuditLog,
    principal: Principal,
    roles: Sequence[str],
    environment: str,
    action: str,
) -> str:
    """The first of ``roles`` the principal holds in ``environment``; else PermissionDenied."""
    role = rules.first_held(principal.id, roles, environment)
    if role is None:
        raise deny(
            audit,
            principal,
            action,
            f"{principal.id} may not {action}: needs role {' or '.join(roles)} "
            f"in environment {environment!r}",
            environment=environment,
            needed=list(roles),
        )
    return role
