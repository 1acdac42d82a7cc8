"""Which submitted files are context (already applied) and which are pending (reviewed).

The request may name context files explicitly (the CLI's ``--base`` resolves to that),
give ``since`` (files up to and including that version are context) and carry a
catalog whose ``history`` lists what the target's migration tool recorded as applied
(``sqlgate catalog`` reads sqlgate's runner history and the Flyway, golang-migrate,
goose, dbmate, sql-migrate, Prisma and Alembic history tables). The context is the
union of the three; without any, every file is pending. The matching rules live in
``sqlgate_client.pending`` so the CLI and the server agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlgate_client.pending import PendingError, context_applied, context_since, version_of

from sqlgate.errors import InputError


def _history(catalog: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    history = (catalog or {}).get("history")
    return [e for e in history if isinstance(e, Mapping)] if isinstance(history, list) else []


def applied_versions(catalog: Mapping[str, Any] | None) -> list[str]:
    """The versions/names the catalog's ``history`` records as applied (may be empty)."""
    out: list[str] = []
    for entry in _history(catalog):
        if isinstance(entry.get("applied"), list):
            out.extend(str(v) for v in entry["applied"] if isinstance(v, str | int))
    return out


def _applied_through(paths: Sequence[str], catalog: Mapping[str, Any] | None) -> set[str]:
    """golang-migrate records only its newest version: numbered files up to it."""
    out: set[str] = set()
    for entry in _history(catalog):
        through = entry.get("through")
        if isinstance(through, str) and through.isdigit():
            out.update(
                p for p in paths if version_of(p).isdigit() and int(version_of(p)) <= int(through)
            )
    return out


def resolve_context(
    paths: Sequence[str],
    *,
    explicit: Sequence[str] = (),
    since: str | None = None,
    catalog: Mapping[str, Any] | None = None,
) -> frozenset[str]:
    """The context paths among ``paths``; InputError for a name or version that is wrong."""
    known = set(paths)
    unknown = sorted(set(explicit) - known)
    if unknown:
        raise InputError(f"context file(s) not among the submitted migrations: {unknown}")
    context = set(explicit)
    if since:
        try:
            context.update(context_since(paths, since))
        except PendingError as exc:
            raise InputError(str(exc)) from exc
    context.update(context_applied(paths, applied_versions(catalog)))
    context.update(_applied_through(paths, catalog))
    return frozenset(context)
