"""Constraint-level ALTER TABLE actions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.columns import _AlterAction


@dataclass(frozen=True, kw_only=True)
class AddConstraint(_AlterAction):
    kind = "add_constraint"
    name: str | None
    constraint_type: str
    columns: tuple[str, ...] = ()
    not_valid: bool = False
    using_index: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddForeignKey(_AlterAction):
    kind = "add_foreign_key"
    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    not_valid: bool = False
    on_delete: str | None = None


@dataclass(frozen=True, kw_only=True)
class DropConstraint(_AlterAction):
    kind = "drop_constraint"
    name: str
    if_exists: bool = False
    # "foreign_key" for MySQL DROP FOREIGN KEY, "check" for DROP CHECK; None when the
    # statement does not say (PostgreSQL DROP CONSTRAINT) (additive).
    constraint_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class ValidateConstraint(_AlterAction):
    kind = "validate_constraint"
    name: str


@dataclass(frozen=True, kw_only=True)
class RenameConstraint(_AlterAction):
    kind = "rename_constraint"
    name: str
    new_name: str
