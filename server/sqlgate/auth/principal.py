"""The authenticated caller of the current gRPC call.

The interceptor sets it in a contextvar for the duration of one call (the sync gRPC
server runs the interceptor wrapper and the servicer in the same thread), so servicers
read it with ``current_principal()`` instead of re-authenticating or using globals.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import Literal

from sqlgate.errors import Unauthenticated

Method = Literal["token", "mtls"]


@dataclasses.dataclass(frozen=True)
class Principal:
    """A caller with a stable id (the config key), and how it proved who it is."""

    id: str
    method: Method
    credential: str  # token hash prefix or certificate name that matched; for audit


_CURRENT: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "sqlgate_principal", default=None
)


def current_principal() -> Principal:
    """The caller of the call being served; Unauthenticated outside an authenticated call."""
    principal = _CURRENT.get()
    if principal is None:
        raise Unauthenticated("no authenticated principal for this call")
    return principal


def set_principal(principal: Principal | None) -> contextvars.Token[Principal | None]:
    return _CURRENT.set(principal)


def reset_principal(token: contextvars.Token[Principal | None]) -> None:
    _CURRENT.reset(token)
