"""Schema objects other than tables and indexes, grants, and the fail-closed ``unknown``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlgate.model.base import Statement


@dataclass(frozen=True, kw_only=True)
class CreateFunction(Statement):
    """CREATE FUNCTION/PROCEDURE. Its body is reviewed where the set calls the function
    (``sqlgate.parse.inline``), not here: defining a function runs none of its SQL."""

    kind = "create_function"
    name: str
    language: str | None
    security_definer: bool = False
    or_replace: bool = False
    procedure: bool = False


@dataclass(frozen=True, kw_only=True)
class DoBlock(Statement):
    kind = "do_block"
    language: str


@dataclass(frozen=True, kw_only=True)
class Call(Statement):
    kind = "call"
    name: str


@dataclass(frozen=True, kw_only=True)
class Grant(Statement):
    kind = "grant"
    privileges: tuple[str, ...]
    objects: tuple[str, ...]
    grantees: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Revoke(Statement):
    kind = "revoke"
    privileges: tuple[str, ...]
    objects: tuple[str, ...]
    grantees: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class CreateSchema(Statement):
    kind = "create_schema"
    name: str
    if_not_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class DropSchema(Statement):
    kind = "drop_schema"
    names: tuple[str, ...]
    cascade: bool = False
    if_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class DropDatabase(Statement):
    kind = "drop_database"
    name: str
    if_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class CreateView(Statement):
    kind = "create_view"
    name: str
    materialized: bool = False
    or_replace: bool = False


@dataclass(frozen=True, kw_only=True)
class DropView(Statement):
    kind = "drop_view"
    names: tuple[str, ...]
    materialized: bool = False
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True, kw_only=True)
class CreateExtension(Statement):
    kind = "create_extension"
    name: str
    if_not_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class DropExtension(Statement):
    kind = "drop_extension"
    name: str
    if_exists: bool = False


@dataclass(frozen=True, kw_only=True)
class AlterTypeAddValue(Statement):
    kind = "alter_type_add_value"
    type: str
    value: str


@dataclass(frozen=True, kw_only=True)
class CreateSequence(Statement):
    kind = "create_sequence"
    name: str


@dataclass(frozen=True, kw_only=True)
class CreateType(Statement):
    """CREATE TYPE (enum, composite, range) and CREATE DOMAIN."""

    kind = "create_type"
    name: str
    type_kind: str
    # CREATE DOMAIN's constraints, by type (`check`, `not_null`, ...): additive.
    constraints: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CreateTrigger(Statement):
    kind = "create_trigger"
    name: str
    table: str


@dataclass(frozen=True, kw_only=True)
class Comment(Statement):
    kind = "comment"
    object_type: str


@dataclass(frozen=True, kw_only=True)
class DropObject(Statement):
    """DROP of an object with no dedicated kind (sequence, type, function, trigger...)."""

    kind = "drop_object"
    object_type: str
    names: tuple[str, ...]
    if_exists: bool = False
    cascade: bool = False


@dataclass(frozen=True, kw_only=True)
class AlterObject(Statement):
    """ALTER/RENAME of an object with no dedicated kind (sequence, function, type...)."""

    kind = "alter_object"
    object_type: str
    name: str
    # What is done to it: `rename`, `set_schema`, `owner` or `alter` (additive).
    operation: str = "alter"


@dataclass(frozen=True, kw_only=True)
class AlterDomain(Statement):
    """ALTER DOMAIN: `action` is add_constraint, drop_constraint, validate_constraint,
    set_default, drop_default, set_not_null or drop_not_null (additive)."""

    kind = "alter_domain"
    name: str
    action: str
    not_valid: bool = False


@dataclass(frozen=True, kw_only=True)
class AlterSystem(Statement):
    """ALTER SYSTEM SET/RESET: changes the server's configuration file (additive)."""

    kind = "alter_system"
    name: str
    value: str | None


@dataclass(frozen=True, kw_only=True)
class Role(Statement):
    """CREATE/ALTER/DROP ROLE or USER; ``operation`` is create/alter/drop and ``options``
    the role options as written, passwords never copied (additive)."""

    kind = "role"
    operation: str
    names: tuple[str, ...]
    options: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Unknown(Statement):
    """Anything not understood: always refused by policy, never guessed."""

    kind = "unknown"
    reason: str
    detail: str = ""
    opaque: bool = True
