"""Session settings and transaction control."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Statement


@dataclass(frozen=True, kw_only=True)
class Set(Statement):
    """SET / SET LOCAL / RESET; ``value`` is None for RESET and SET ... TO DEFAULT.

    ``scope`` (additive) says whose setting changes: ``session`` (SET, SET LOCAL,
    set_config()), ``role`` / ``database`` (ALTER ROLE/DATABASE ... SET: the default of
    every later session), ``function`` (a CREATE FUNCTION ... SET clause: while it runs).
    ``value`` is ``?`` when it is not a constant (set_config with an expression)."""

    kind = "set"
    name: str
    value: str | None
    local: bool = False
    scope: str = "session"


@dataclass(frozen=True, kw_only=True)
class Transaction(Statement):
    kind = "transaction"
    action: str
