"""Declared environments and targets: a check names one of them or is refused.

Environment-scoped rules (roles, approval rules, policy levels) fall back to ``"*"``
for a name they do not list, so an undeclared ``--env production-eu`` (a typo or a
trick) would be reviewed under the catch-all rules and its verdict applied anywhere.
The server's config therefore declares its environments and, for each, its targets;
anything else is an InputError (INVALID_ARGUMENT, CLI exit 2) before any review.
"""

from __future__ import annotations

from sqlgate.config import ServerConfig
from sqlgate.errors import InputError


def require_declared(config: ServerConfig, environment: str, target: str) -> None:
    """InputError unless ``environment`` is declared and ``target`` belongs to it."""
    if not environment:
        raise InputError("environment is required")
    if not target:
        raise InputError("target is required")
    if not config.environments:
        raise InputError(
            "this server declares no environments: add `environments: {<name>: {targets: "
            "[...]}}` to its config (docs/config.md); every check is refused until then"
        )
    env = config.environments.get(environment)
    if env is None:
        raise InputError(
            f"environment {environment!r} is not declared on this server "
            f"(declared: {', '.join(sorted(config.environments))})"
        )
    if target not in env.targets:
        raise InputError(
            f"target {target!r} is not declared in environment {environment!r} "
            f"(declared: {', '.join(env.targets)})"
        )
