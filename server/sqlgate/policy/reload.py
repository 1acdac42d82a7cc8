"""Hot policy reload: swap to a new policy set without a restart or a failed check.

`ReloadingEngine` is the Engine the server uses. Each evaluation runs on the engine that
was current when it started and its result carries that engine's digest, so a verdict
names the policy that decided it even if a reload lands mid-evaluation; the replaced
engine is closed only after its last in-flight evaluation returns.

A reload (SIGHUP, or a new bundle revision found by polling a bundle URL) loads the set
from the configured source and adopts it only if it compiles, its signature and revision
hold (bundles), and every one of its own Rego tests passes; otherwise the current policy
keeps serving. Either way `on_event` is told (the App records a ``policy_load`` audit
event with outcome ``loaded`` or ``rejected``).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlgate.errors import SqlgateError
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.engine import Engine, PolicyResult
from sqlgate.policy.source import PolicySource
from sqlgate.policy.testing import run_loaded_tests

log = logging.getLogger(__name__)


@dataclass
class _Slot:
    engine: Engine
    policy_set: PolicySet
    inflight: int = 0
    retired: bool = False


@dataclass(frozen=True)
class ReloadOutcome:
    """``loaded``, ``unchanged`` or ``rejected``; the digest now serving; why."""

    status: str
    digest: str
    message: str = ""


def _close(engine: Engine) -> None:
    close = getattr(engine, "close", None)
    if callable(close):
        close()


class ReloadingEngine:
    """The Engine protocol over a replaceable engine (see the module docstring)."""

    def __init__(
        self,
        source: PolicySource,
        build: Callable[[PolicySet], Engine],
        initial: PolicySet,
        *,
        on_event: Callable[[Mapping[str, Any]], object] | None = None,
    ) -> None:
        self._source = source
        self._build = build
        self._on_event = on_event
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._slot = _Slot(build(initial), initial)

    @property
    def policy_digest(self) -> str:
        with self._lock:
            return self._slot.engine.policy_digest

    @property
    def policy_set(self) -> PolicySet:
        with self._lock:
            return self._slot.policy_set

    @property
    def current(self) -> Engine:
        """The engine serving now; a later reload may retire it (for inspection only)."""
        with self._lock:
            return self._slot.engine

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        with self._lock:
            slot = self._slot
            slot.inflight += 1
        try:
            result = slot.engine.evaluate(policy_input)
            return dataclasses.replace(result, policy_digest=slot.engine.policy_digest)
        finally:
            with self._lock:
                slot.inflight -= 1
                done = slot.retired and slot.inflight == 0
            if done:
                _close(slot.engine)

    def reload(self, *, reason: str, conditional: bool = False) -> ReloadOutcome:
        """Load the source again and adopt it if it is valid; never raises."""
        with self._reload_lock:
            current = self.policy_digest
            try:
                policy_set = self._source.load(conditional=conditional)
                if policy_set is None or policy_set.digest == self._slot.policy_set.digest:
                    return ReloadOutcome("unchanged", current)
                failing = [
                    f"{r.package}.{r.name} ({r.status})"
                    for r in run_loaded_tests(policy_set)
                    if r.status != "pass"
                ]
                if failing:
                    raise SqlgateError(
                        f"policy tests fail: {', '.join(failing[:5])}"
                        + (f" and {len(failing) - 5} more" if len(failing) > 5 else "")
                    )
                engine = self._build(policy_set)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the current policy
                outcome = ReloadOutcome("rejected", current, str(exc)[:1000])
                log.error("policy reload (%s) rejected, keeping %s: %s", reason, current, exc)
                self._emit(outcome, reason, None)
                return outcome
            with self._lock:
                old = self._slot
                self._slot = _Slot(engine, policy_set)
                old.retired = True
                idle = old.inflight == 0
            if idle:
                _close(old.engine)
            outcome = ReloadOutcome("loaded", engine.policy_digest, f"replaced {current}")
            log.info("policy reload (%s): now serving %s", reason, outcome.digest)
            self._emit(outcome, reason, policy_set)
            return outcome

    def _emit(self, outcome: ReloadOutcome, reason: str, policy_set: PolicySet | None) -> None:
        if self._on_event is None:
            return
        details: dict[str, Any] = {
            "outcome": outcome.status,
            "reason": reason,
            "policy_digest": outcome.digest,
            "source": self._source.describe(),
        }
        if outcome.status == "rejected":
            details["error"] = outcome.message
        if policy_set is not None:
            details["keeps_earlier_verdicts"] = keeps_earlier_verdicts(policy_set)
        try:
            self._on_event(details)
        except Exception:  # an audit failure must not undo a reload that happened
            log.exception("recording the policy reload failed")

    def terminate(self) -> None:
        """Kill the current engine's worker processes, if it has any (shutdown)."""
        with self._lock:
            engine = self._slot.engine
        terminate = getattr(engine, "terminate", None)
        if callable(terminate):
            terminate()

    def close(self) -> None:
        with self._lock:
            slot = self._slot
            slot.retired = True
            idle = slot.inflight == 0
        if idle:
            _close(slot.engine)


def keeps_earlier_verdicts(policy_set: PolicySet) -> bool:
    """The policy's ``data/rollout.yaml`` says verdicts of earlier policies stay valid."""
    config = policy_set.data.get("sqlgate", {}).get("config", {})
    rollout = config.get("rollout") if isinstance(config, Mapping) else None
    return isinstance(rollout, Mapping) and rollout.get("keeps_earlier_verdicts") is True
