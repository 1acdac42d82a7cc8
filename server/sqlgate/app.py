"""The application object: everything the servicers need, built once at start-up.

``App.build(config)`` prepares the policies, opens the store, loads the keyset (the
``keys`` directory from config, else SQLGATE_KEYS_DIR / SQLGATE_<PURPOSE>_KEY), sets up
the audit log with the checkpoint key, and the role and identity tables from config.
Servicers receive the App; nothing is global. Loading policies and keys are audit
events (``policy_load``, ``key_change``), so the log shows what decided and signed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlgate.audit.export import CheckpointFile
from sqlgate.audit.log import AuditLog
from sqlgate.auth.identities import Identities
from sqlgate.config import ServerConfig
from sqlgate.errors import ConfigError
from sqlgate.parse import Limits, ParseCache, ParsePool
from sqlgate.policy.decision_log import DecisionLogger
from sqlgate.policy.engine import Engine
from sqlgate.policy.factory import engine_for, policy_source
from sqlgate.policy.reload import ReloadingEngine, ReloadOutcome, keeps_earlier_verdicts
from sqlgate.policy.reload_metrics import observe_policy_event
from sqlgate.policy.rollout import PolicyHistory
from sqlgate.policy.source import is_url
from sqlgate.review import request_limits
from sqlgate.roles import RoleRules
from sqlgate.store import Store, open_store
from sqlgate.targets import TargetCatalogs
from sqlgate.trust.keys import KeyRecord, Keyset

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def load_keyset(config: ServerConfig) -> Keyset:
    """The private keyset from ``config.keys`` or the environment; ConfigError if none."""
    if config.keys is not None:
        return Keyset.load(config.keys)
    return Keyset.from_env()


def _open_store(url: str) -> Store:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return open_store(url)


def _audit_key_change(audit: AuditLog, before: list[KeyRecord], after: list[KeyRecord]) -> None:
    """A running server saw ``sqlgate keys rotate/revoke`` change its key directory."""
    old = {k.key_id: k.state for k in before}
    changes = [
        {"key_id": k.key_id, "purpose": k.purpose, "from": old.get(k.key_id), "to": k.state}
        for k in after
        if old.get(k.key_id) != k.state
    ]
    try:
        audit.record(
            "key_change",
            "sqlgate",
            {
                "reason": "key directory changed (reloaded without restart)",
                "changes": changes,
                "keys": [
                    {"key_id": k.key_id, "purpose": k.purpose, "state": k.state} for k in after
                ],
            },
        )
    except Exception:  # the new keys are in force either way; the failure is logged
        log.exception("could not audit a key change")


def _decision_logger(config: ServerConfig) -> DecisionLogger | None:
    section = config.decision_logs
    if section is None:
        return None
    try:
        return DecisionLogger(
            file=section.file,
            url=section.url,
            include_input=section.include_input,
            bundle=config.policies.opa.bundle if config.policies.opa else "sqlgate",
        )
    except OSError as exc:
        raise ConfigError(f"decision_logs.file: cannot write: {exc.strerror}") from exc


def _policy_event(audit: AuditLog, details: Mapping[str, Any]) -> None:
    """A policy load or reload attempt: audited, and counted in the metrics."""
    observe_policy_event(details)
    audit.record("policy_load", "sqlgate", details)


@dataclasses.dataclass
class App:
    """Prepared engine, store, keys, audit log, roles, identities, limits and clock."""

    config: ServerConfig
    engine: Engine
    store: Store
    keyset: Keyset
    audit: AuditLog
    roles: RoleRules
    identities: Identities
    limits: Limits
    clock: Callable[[], datetime] = utcnow
    # Catalogs of the configured targets, read by the server (cached per target).
    catalogs: TargetCatalogs | None = None
    # One parse cache for the server's lifetime, and a parse pool only when configured
    # (``parse_workers`` > 1; its workers start on the first big set).
    parse_cache: ParseCache = dataclasses.field(default_factory=ParseCache)
    parse_pool: ParsePool | None = None
    # Policy loads recorded in the (shared) store: the rollout rule (sqlgate.policy.rollout).
    history: PolicyHistory | None = None
    # OPA-shaped decision logs (``decision_logs``), one event per Check.
    decision_log: DecisionLogger | None = None
    _poll_stop: threading.Event = dataclasses.field(default_factory=threading.Event)

    @classmethod
    def build(
        cls,
        config: ServerConfig,
        *,
        engine: Engine | None = None,
        keyset: Keyset | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> App:
        """Everything the service needs, or an error before anything listens."""
        keyset = keyset or load_keyset(config)
        checkpoint_signer = keyset.signer("checkpoint")
        export = None
        if config.audit_checkpoint_file is not None:
            export = CheckpointFile(config.audit_checkpoint_file)
            export.check_writable()
        store = _open_store(config.store)
        audit = AuditLog(
            store,
            checkpoint_signer,
            config.audit_checkpoint_every,
            clock=clock,
            export=export,
            signer_source=lambda: keyset.signer("checkpoint"),  # follows rotations
        )
        keeps = False
        if engine is None:
            # The server's own engine reloads in place (SIGHUP, bundle polling); every load
            # and rejected load is a policy_load audit event.
            source = policy_source(config)
            initial = source.load_now()
            keeps = keeps_earlier_verdicts(initial)
            engine = ReloadingEngine(
                source,
                lambda policy_set: engine_for(config, policy_set),
                initial,
                on_event=lambda details: _policy_event(audit, details),
            )
        app = cls(
            config=config,
            engine=engine,
            store=store,
            keyset=keyset,
            audit=audit,
            roles=RoleRules(config.principals),
            identities=Identities(config.principals),
            limits=request_limits(config.limits),
            catalogs=TargetCatalogs(config.targets),
            clock=clock,
            parse_pool=ParsePool(config.parse_workers) if config.parse_workers > 1 else None,
            history=PolicyHistory(store.iter_audit),
            decision_log=_decision_logger(config),
        )
        _policy_event(
            audit,
            {
                "outcome": "loaded",
                "reason": "start-up",
                "policy_digest": engine.policy_digest,
                "dir": str(config.policies.dir),
                "source": config.policies.bundle or str(config.policies.dir),
                "keeps_earlier_verdicts": keeps,
            },
        )
        audit.record(
            "key_change",
            "sqlgate",
            {
                "reason": "loaded at start-up",
                "keys": [
                    {"key_id": k.key_id, "purpose": k.purpose, "state": k.state} for k in keyset
                ],
            },
        )
        keyset.on_change = lambda before, after: _audit_key_change(audit, before, after)
        return app

    def now(self) -> datetime:
        return self.clock()

    def terminate_workers(self) -> None:
        """Kill parse and policy worker processes, busy or not (shutdown, after the grace
        period): work still running belongs to calls that were cancelled."""
        if self.parse_pool is not None:
            self.parse_pool.terminate()
        terminate = getattr(self.engine, "terminate", None)
        if callable(terminate):
            terminate()

    def policy_refusal(self, verdict_digest: str, loaded_digest: str) -> str | None:
        """Why a verdict of `verdict_digest` is not honoured here, or None (rollout rule)."""
        if verdict_digest == loaded_digest:
            return None
        if self.history is None:
            return "it is not the loaded one"
        return self.history.refusal(verdict_digest, loaded_digest)

    def reload_policy(self, reason: str, *, conditional: bool = False) -> ReloadOutcome | None:
        """Reload the policies in place (None: this app's engine does not reload)."""
        if not isinstance(self.engine, ReloadingEngine):
            return None
        return self.engine.reload(reason=reason, conditional=conditional)

    def start_bundle_polling(self) -> threading.Thread | None:
        """Poll a bundle URL every ``policies.bundle_poll_s``: a new revision reloads."""
        bundle = self.config.policies.bundle
        if bundle is None or not is_url(bundle) or not isinstance(self.engine, ReloadingEngine):
            return None

        def poll() -> None:
            while not self._poll_stop.wait(self.config.policies.bundle_poll_s):
                self.reload_policy("bundle", conditional=True)

        thread = threading.Thread(target=poll, name="sqlgate-bundle-poll", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Release the engine's workers, the parse pool and the store's connections."""
        log.info("%s", self.parse_cache.stats().log_line())
        self._poll_stop.set()
        if self.decision_log is not None:
            self.decision_log.close()
        if self.parse_pool is not None:
            self.parse_pool.close()
        close = getattr(self.engine, "close", None)
        if callable(close):
            close()
        self.store.close()
