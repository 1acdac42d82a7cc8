"""Table-level kinds: create, drop, rename, truncate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Column, ForeignKey, Statement
from sqlgate.model.columns import _AlterAction


@dataclass(frozen=True, kw_only=True)
class TableConstraint:
    """A PRIMARY KEY / UNIQUE / CHECK / EXCLUDE constraint declared in CREATE TABLE."""

    name: str | None
    constraint_type: str
    columns: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CreateTable(Statement):
    kind = "create_table"
    table: str
    columns: tuple[Column, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    constraints: tuple[TableConstraint, ...] = ()
    if_not_exists: bool = False
    temporary: bool = False
    as_select: bool = False


@dataclass(frozen=True, kw_only=True)
class DropTable(Statement):
    kind = "drop_table"
    tables: tuple[str, ...]
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True, kw_only=True)
class RenameTable(Statement):
    kind = "rename_table"
    table: str
    new_name: str
    algorithm: str | None = None
    lock_option: str | None = None


@dataclass(frozen=True, kw_only=True)
class Truncate(Statement):
    kind = "truncate"
    tables: tuple[str, ...]
    cascade: bool = False


@dataclass(frozen=True, kw_only=True)
class AlterTableOther(_AlterAction):
    """An ALTER TABLE action with no dedicated kind (OWNER TO, SET storage, triggers...)."""

    kind = "alter_table_other"
    subtype: str
    # DETACH PARTITION ... CONCURRENTLY (additive).
    concurrently: bool = False
