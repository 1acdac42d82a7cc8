"""Which verdicts a replica honours while policies roll out (docs/design-notes.md).

Every replica records each policy it loads (start-up or reload) as a ``policy_load``
audit event in the shared store, with ``keeps_earlier_verdicts`` from the policy's
``data/rollout.yaml``. A verdict decided under digest V, on a replica serving digest L:

1. V == L: honoured.
2. V was loaded (by any replica) more recently than L: this replica is behind in the
   rollout; the verdict was decided by the newer policy, honoured (for its TTL).
3. V was loaded before L: honoured only if every policy loaded after V, up to and
   including L, declares ``keeps_earlier_verdicts: true``; the default is false, so a
   tightened rule never lets a verdict of the looser policy through (the finding behind
   tests/security/test_policy_change.py).
4. V never recorded as loaded: refused.

"More recently" is the sequence of the digest's latest ``policy_load`` event, so a
rollback (re-loading the old digest) makes the rolled-back policy's verdicts earlier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

KIND = "policy_load"


class PolicyHistory:
    """The loads recorded in the audit log, read incrementally."""

    def __init__(self, iter_audit: Callable[[int], Iterator[Any]]) -> None:
        self._iter_audit = iter_audit
        self._after = 0
        self._latest: dict[str, tuple[int, bool]] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        for record in self._iter_audit(self._after):
            self._after = max(self._after, record.sequence)
            if record.kind != KIND:
                continue
            details = record.details
            digest = details.get("policy_digest")
            if not isinstance(digest, str) or details.get("outcome", "loaded") != "loaded":
                continue
            keeps = details.get("keeps_earlier_verdicts") is True
            self._latest[digest] = (record.sequence, keeps)

    def refusal(self, verdict_digest: str, loaded_digest: str) -> str | None:
        """None if a verdict of `verdict_digest` is honoured here, else the reason."""
        if verdict_digest == loaded_digest:
            return None
        with self._lock:
            self._refresh()
            verdict = self._latest.get(verdict_digest)
            loaded = self._latest.get(loaded_digest)
            if verdict is None or loaded is None:
                return f"policy {verdict_digest} was never loaded by a replica of this service"
            if verdict[0] > loaded[0]:
                return None  # this replica is behind: the verdict's policy is the newer one
            breaking = [
                digest
                for digest, (seq, keeps) in self._latest.items()
                if verdict[0] < seq <= loaded[0] and not keeps
            ]
        if breaking:
            return (
                f"policy {breaking[0]}, loaded after {verdict_digest}, does not keep earlier "
                "verdicts (rollout.keeps_earlier_verdicts)"
            )
        return None
