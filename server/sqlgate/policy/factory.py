"""The one place a configured policy engine is built, shared by the server and the CLI.

It imports only the engine it returns, so ``sqlgate check --local`` (in-process
regorus) never loads the worker pool, HTTP client or anything of the server
(gRPC, store, crypto); ``sqlgate.app`` re-exports these for the server.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from sqlgate.config import ServerConfig
from sqlgate.errors import ConfigError
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.engine import Engine
from sqlgate.policy.source import PolicySource

if TYPE_CHECKING:
    from sqlgate.policy.remote import RemoteOpaEngine


def load_engine(config: ServerConfig, *, in_process: bool = False) -> Engine:
    """Load and prepare the policy set once (PolicyLoadError if it does not compile), in
    worker processes (``policies.isolation: process``) or threads (``thread``); with
    ``policies.engine: opa``, the remote OPA that must serve that set's digest. The set
    comes from ``policies.dir`` or, when configured, ``policies.bundle``.

    ``in_process`` (one-shot CLI runs) evaluates in this process whatever the isolation
    setting: spawning workers costs more than a single review, and the budget still holds
    (EmbeddedEngine enforces it). The server keeps the configured isolation.
    """
    return engine_for(config, policy_source(config).load_now(), in_process=in_process)


def engine_for(config: ServerConfig, policy_set: PolicySet, *, in_process: bool = False) -> Engine:
    """The configured engine kind over `policy_set` (used at start-up and on reload)."""
    if config.policies.engine == "opa":
        return remote_engine(config, policy_set.digest)
    if config.policies.isolation == "process" and not in_process:
        from sqlgate.policy.isolated import IsolatedEngine

        engine_class: type[Engine] = IsolatedEngine
    else:
        from sqlgate.policy.embedded import EmbeddedEngine

        engine_class = EmbeddedEngine
    return engine_class(  # type: ignore[call-arg]
        policy_set,
        timeout_s=config.policies.timeout_s,
        timeout_per_1k_statements_s=config.policies.timeout_per_1k_statements_s,
    )


def policy_source(config: ServerConfig) -> PolicySource:
    """The configured policy source (tree or bundle file/URL)."""
    return PolicySource(
        dir=config.policies.dir,
        bundle=config.policies.bundle,
        verification_key=config.policies.verification_key,
    )


def remote_engine(config: ServerConfig, digest: str) -> RemoteOpaEngine:
    """The remote-OPA engine of ``policies.opa``; ConfigError if its settings are unusable
    (a token variable that is unset or a token file that cannot be read included)."""
    from sqlgate.policy.remote import RemoteOpaEngine

    opa = config.policies.opa
    if opa is None:
        raise ConfigError("policies.engine: opa needs a policies.opa section with a url")
    token = None
    if opa.token_env is not None:
        token = os.environ.get(opa.token_env)
        if not token:
            raise ConfigError(f"policies.opa.token_env: {opa.token_env} is not set")
    elif opa.token_file is not None:
        try:
            token = opa.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"policies.opa.token_file: cannot read: {exc.strerror}") from exc
        if not token:
            raise ConfigError(f"policies.opa.token_file: {opa.token_file} is empty")
    client_cert = None
    if opa.client_cert is not None and opa.client_key is not None:
        client_cert = (opa.client_cert, opa.client_key)
    try:
        return RemoteOpaEngine(
            opa.url,
            timeout_s=config.policies.timeout_s,
            timeout_per_1k_statements_s=config.policies.timeout_per_1k_statements_s,
            policy_digest=digest,
            bundle=opa.bundle,
            token=token,
            ca=opa.ca,
            client_cert=client_cert,
        )
    except ValueError as exc:
        raise ConfigError(f"policies.opa: {exc}") from exc
