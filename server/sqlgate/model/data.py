"""Data-manipulation kinds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Batch, Statement


@dataclass(frozen=True, kw_only=True)
class Update(Statement):
    kind = "update"
    table: str
    has_where: bool
    batch: Batch | None = None


@dataclass(frozen=True, kw_only=True)
class Delete(Statement):
    kind = "delete"
    table: str
    has_where: bool
    batch: Batch | None = None


@dataclass(frozen=True, kw_only=True)
class Insert(Statement):
    kind = "insert"
    table: str
    from_select: bool = False


@dataclass(frozen=True, kw_only=True)
class Copy(Statement):
    kind = "copy"
    table: str | None
    direction: str
    program: bool = False
    # COPY to/from a file on the database server (not STDIN/STDOUT, not PROGRAM; additive).
    server_file: bool = False


@dataclass(frozen=True, kw_only=True)
class Select(Statement):
    kind = "select"
