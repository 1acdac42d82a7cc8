"""Named targets: the server reads a target's catalog itself, so CI holds no credentials.

``targets:`` in the server config maps a target name to the DSN of a read-only role
(``dsn``, or ``dsn_env`` naming an environment variable that holds it). When a check
names a configured target and sends no catalog, the review asks ``TargetCatalogs`` for
it; each target's catalog is cached for its ``catalog_ttl_s``. A read failure is a
CatalogError (the check fails, it never proceeds without the catalog it was promised).

A PostgreSQL target's *identity* (system identifier + database name, read through the
same DSN) goes into the verdict's binding, so the runner can prove it applies to that
very database (docs/invariant.md). It is read with the catalog and cached with it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlgate_client.trust.binding import TargetIdentity

from sqlgate.errors import CatalogError

if TYPE_CHECKING:
    from sqlgate.config import TargetConfig

Reader = Callable[[str], dict[str, Any]]
IdentityReader = Callable[[str], "TargetIdentity | None"]


def _read(dsn: str) -> dict[str, Any]:
    from sqlgate.catalog import read_catalog

    return read_catalog(dsn)


def read_identity(dsn: str) -> TargetIdentity | None:
    """PostgreSQL's system identifier and current database behind ``dsn``; None for a
    MySQL DSN (the runner does not execute MySQL); CatalogError when unreadable."""
    from sqlgate.catalog.dsn import dialect_of

    if dialect_of(dsn) != "postgres":
        return None
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=10, autocommit=True) as conn:
            row = conn.execute(
                "SELECT system_identifier::text, current_database() FROM pg_control_system()"
            ).fetchone()
    except psycopg.Error as exc:
        raise CatalogError(f"cannot read the database identity: {exc}".strip()) from exc
    if row is None or not row[0] or not row[1]:
        raise CatalogError("cannot read the database identity: empty answer")
    return TargetIdentity(system_identifier=str(row[0]), database=str(row[1]))


class TargetCatalogs:
    """Catalog per configured target, read on first use and re-read after its TTL."""

    def __init__(
        self,
        targets: Mapping[str, TargetConfig],
        *,
        reader: Reader = _read,
        identity_reader: IdentityReader = read_identity,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._targets = dict(targets)
        self._reader = reader
        self._identity_reader = identity_reader
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._identities: dict[str, tuple[float, TargetIdentity | None]] = {}

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

    def _dsn(self, target: str, config: TargetConfig) -> str:
        dsn = config.dsn or os.environ.get(config.dsn_env or "", "")
        if not dsn:
            raise CatalogError(
                f"target {target!r}: environment variable {config.dsn_env} is not set"
            )
        return dsn

    def identity(self, target: str) -> TargetIdentity | None:
        """The configured target's identity (cached for its TTL); None when the target
        has no DSN here or is not PostgreSQL. CatalogError when it cannot be read: a
        verdict for a configured target is never issued without it."""
        config = self._targets.get(target)
        if config is None:
            return None
        with self._lock:
            now = self._clock()
            hit = self._identities.get(target)
            if hit is not None and now - hit[0] < config.catalog_ttl_s:
                return hit[1]
            try:
                found = self._identity_reader(self._dsn(target, config))
            except CatalogError as exc:
                raise CatalogError(f"target {target!r}: {exc}") from exc
            self._identities[target] = (now, found)
            return found
