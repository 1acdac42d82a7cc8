"""Column-level ALTER TABLE actions (one model statement per action)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Column, ForeignKey, Statement


@dataclass(frozen=True, kw_only=True)
class _AlterAction(Statement):
    table: str
    action: int = 0


@dataclass(frozen=True, kw_only=True)
class AddColumn(_AlterAction):
    kind = "add_column"
    column: Column
    foreign_key: ForeignKey | None = None
    if_not_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class DropColumn(_AlterAction):
    kind = "drop_column"
    column: str
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True, kw_only=True)
class RenameColumn(_AlterAction):
    kind = "rename_column"
    column: str
    new_name: str


@dataclass(frozen=True, kw_only=True)
class AlterColumnType(_AlterAction):
    kind = "alter_column_type"
    column: str
    type: str
    using: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetNotNull(_AlterAction):
    kind = "set_not_null"
    column: str


@dataclass(frozen=True, kw_only=True)
class DropNotNull(_AlterAction):
    kind = "drop_not_null"
    column: str


@dataclass(frozen=True, kw_only=True)
class SetDefault(_AlterAction):
    kind = "set_default"
    column: str
    default: str
    default_volatile: bool = False


@dataclass(frozen=True, kw_only=True)
class DropDefault(_AlterAction):
    kind = "drop_default"
    column: str
    default_volatile: bool = False
