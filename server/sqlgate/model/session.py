"""Session settings and transaction control."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Statement


@dataclass(frozen=True, kw_only=True)
class Set(Statement):
    """SET / SET LOCAL / RESET; ``value`` is None for RESET and SET ... TO DEFAULT."""

    kind = "set"
    name: str
    value: str | None
    local: bool = False


@dataclass(frozen=True, kw_only=True)
class Transaction(Statement):
    kind = "transaction"
    action: str
