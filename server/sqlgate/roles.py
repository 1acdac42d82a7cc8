"""Role rules: which principal holds which role in which environment.

Built only from the server's own config (``principals[*].roles``), never from the
repository under review. ``"*"`` as an environment means every environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlgate.config import PrincipalConfig

ANY_ENVIRONMENT = "*"


class RoleRules:
    """Answers "does principal P hold role R in environment E?" from config."""

    def __init__(self, principals: Iterable[PrincipalConfig]) -> None:
        self._roles: dict[str, Mapping[str, tuple[str, ...]]] = {
            p.id: dict(p.roles) for p in principals
        }

    def holds(self, principal: str, role: str, environment: str) -> bool:
        envs = self._roles.get(principal, {}).get(role, ())
        return ANY_ENVIRONMENT in envs or (bool(environment) and environment in envs)

    def first_held(self, principal: str, roles: Iterable[str], environment: str) -> str | None:
        """The first of ``roles`` the principal holds in ``environment``, else None."""
        for role in roles:
            if self.holds(principal, role, environment):
                return role
        return None

    def roles_in(self, principal: str, environment: str) -> list[str]:
        """Every role the principal holds in ``environment``, sorted."""
        return sorted(
            r for r in self._roles.get(principal, {}) if self.holds(principal, r, environment)
        )

    def holds_anywhere(self, principal: str, role: str) -> bool:
        """Whether the principal holds ``role`` in at least one environment."""
        return bool(self._roles.get(principal, {}).get(role))

    def known(self, principal: str) -> bool:
        return principal in self._roles
