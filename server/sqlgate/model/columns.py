"""Column-level ALTER TABLE actions (one model statement per action)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Column, ForeignKey, Statement


@dataclass(frozen=True, kw_only=True)
class _AlterAction(Statement):
    table: str
    action: int = 0
    # MySQL online-DDL clauses of the whole ALTER TABLE, upper-case as written
    # (ALGORITHM=COPY|INPLACE|INSTANT|DEFAULT, LOCK=NONE|SHARED|EXCLUSIVE|DEFAULT); None
    # when absent and always None in PostgreSQL (additive).
    algorithm: str | None = None
    lock_option: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddColumn(_AlterAction):
    kind = "add_column"
    column: Column
    foreign_key: ForeignKey | None = None
    if_not_exists: bool = False
    # MySQL column placement: "FIRST" or "AFTER <column>"; None when not given (additive).
    placement: str | None = None
    # MySQL: the table of an inline REFERENCES clause, which MySQL parses and ignores.
    inline_references: str | None = None


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
    placement: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlterColumnType(_AlterAction):
    kind = "alter_column_type"
    column: str
    type: str
    using: str | None = None
    placement: str | None = None
    # MySQL MODIFY/CHANGE restate the whole column: its new definition (None in PostgreSQL).
    definition: Column | None = None
    # MySQL: CHARACTER SET given in the new definition.
    charset: str | None = None


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
