"""Named targets: the server reads a target's catalog itself, so CI holds no credentials.

``targets:`` in the server config maps a target name to the DSN of a read-only role
(``dsn``, or ``dsn_env`` naming an environment variable that holds it). When a check
names a configured target and sends no catalog, the review asks ``TargetCatalogs`` for
it; each target's catalog is cached for its ``catalog_ttl_s``. A read failure is a
CatalogError (the check fails, it never proceeds without the catalog it was promised).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlgate.errors import CatalogError

if TYPE_CHECKING:
    from sqlgate.config import TargetConfig

Reader = Callable[[str], dict[str, Any]]


def _read(dsn: str) -> dict[str, Any]:
    from sqlgate.catalog import read_catalog

    return read_catalog(dsn)


class TargetCatalogs:
    """Catalog per configured target, read on first use and re-read after its TTL."""

    def __init__(
        self,
        targets: Mapping[str, TargetConfig],
        *,
        reader: Reader = _read,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._targets = dict(targets)
        self._reader = reader
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def __contains__(self, target: object) -> bool:
        return target in self._targets

    def catalog(self, target: str) -> dict[str, Any] | None:
        """The target's catalog (cached), or None when the target is not configured."""
        config = self._targets.get(target)
        if config is None:
            return None
        with self._lock:
            hit = self._cache.get(target)
            now = self._clock()
            if hit is not None and now - hit[0] < config.catalog_ttl_s:
                return hit[1]
            dsn = config.dsn or os.environ.get(config.dsn_env or "", "")
            if not dsn:
                raise CatalogError(
                    f"target {target!r}: environment variable {config.dsn_env} is not set"
                )
            try:
                doc = self._reader(dsn)
            except CatalogError as exc:
                raise CatalogError(f"target {target!r}: cannot read its catalog: {exc}") from exc
            self._cache[target] = (now, doc)
            return doc
