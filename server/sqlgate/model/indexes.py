"""Index kinds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Statement


@dataclass(frozen=True, kw_only=True)
class CreateIndex(Statement):
    kind = "create_index"
    name: str | None
    table: str
    columns: tuple[str, ...]
    unique: bool = False
    concurrently: bool = False
    if_not_exists: bool = False
    partial: bool = False
    # PostgreSQL ON ONLY parent: an invalid index on the partitioned parent alone, instant
    # (partitions' indexes are attached later); additive.
    only: bool = False
    # MySQL index kind: "fulltext" or "spatial"; None for ordinary indexes (additive).
    index_type: str | None = None
    # MySQL online-DDL clauses (see _AlterAction); None in PostgreSQL.
    algorithm: str | None = None
    lock_option: str | None = None


@dataclass(frozen=True, kw_only=True)
class DropIndex(Statement):
    kind = "drop_index"
    names: tuple[str, ...]
    concurrently: bool = False
    if_exists: bool = False
    table: str | None = None
    algorithm: str | None = None
    lock_option: str | None = None


@dataclass(frozen=True, kw_only=True)
class Reindex(Statement):
    kind = "reindex"
    target: str
    name: str
    concurrently: bool = False
