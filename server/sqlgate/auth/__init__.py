"""Who is calling: API tokens and mTLS certificates → Principal, and role checks.

``AuthInterceptor`` authenticates every gRPC call (health and reflection aside);
servicers read the caller with ``current_principal()`` and check roles per
environment with ``require_role``.
"""

from __future__ import annotations

from sqlgate.auth.authorize import deny, require_role
from sqlgate.auth.identities import Identities, cert_names, hash_token, new_token
from sqlgate.auth.interceptor import AuthInterceptor
from sqlgate.auth.principal import Principal, current_principal
from sqlgate.auth.repositories import ResolvedRepo, resolve_repo
from sqlgate.auth.tls import server_credentials

__all__ = [
    "AuthInterceptor",
    "Identities",
    "Principal",
    "ResolvedRepo",
    "cert_names",
    "current_principal",
    "deny",
    "hash_token",
    "new_token",
    "require_role",
    "resolve_repo",
    "server_credentials",
]
