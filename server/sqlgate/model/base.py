"""The shared base of every statement model type and its JSON serialisation.

Every kind is a frozen dataclass so that a parsed set cannot be edited after review;
``index`` and ``facts`` are filled in with ``dataclasses.replace`` by the parser and
``sqlgate.facts``. ``to_json`` produces exactly the shape of docs/contract.md §1.

The contract uses ``column`` both for the 1-based source column of every statement and
for the column a column-action targets; the Python attribute for the position is
``col`` and the JSON carries ``position`` = {line, column, end_line} for every kind,
with a kind's own ``column`` field winning the top-level key (contract §1, "Position").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class: ``to_json`` runs for every
    statement of every review, and ``dataclasses.fields`` reflection dominated it.
    Fields marked ``internal`` (parser bookkeeping such as a function's parsed body) are
    not part of the contract's JSON."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(
            f.name for f in dataclasses.fields(cls) if not f.metadata.get("internal")
        )
    return names


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (tuple, list)):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {n: _json(getattr(value, n)) for n in _names(type(value))}
    return value


@dataclass(frozen=True, kw_only=True)
class Statement:
    """Fields every statement has; subclasses set ``kind`` and add their own fields."""

    kind: ClassVar[str] = ""
    index: int = 0
    file: str
    line: int
    col: int
    end_line: int
    text: str
    in_transaction: bool = False
    opaque: bool = False
    # How the statement is reached when it is not a top-level statement of its file
    # (additive): "cte" (a data-modifying WITH query), "do" (inside a DO block),
    # "function <name>" (the body of a function the set defines, inlined where the set
    # calls it), "trigger <name>", "set_config" (a set_config() call). Null otherwise.
    via: str | None = None
    # The functions the statement calls, lower-cased as written (schema kept), additive.
    functions: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object for this statement (``kind`` first)."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in _names(type(self)):
            if name == "col":
                out["column"] = self.col  # overwritten below by a kind's own `column`
            else:
                out[name] = _json(getattr(self, name))
        out["position"] = {"line": self.line, "column": self.col, "end_line": self.end_line}
        return out


@dataclass(frozen=True, kw_only=True)
class Column:
    """A column definition (CREATE TABLE, ADD COLUMN)."""

    name: str
    type: str
    not_null: bool = False
    default: str | None = None
    default_volatile: bool = False
    primary_key: bool = False
    unique: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(_json(self))


@dataclass(frozen=True, kw_only=True)
class ForeignKey:
    """A foreign key (inline, table constraint or ADD CONSTRAINT)."""

    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    not_valid: bool = False
    on_delete: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(_json(self))


@dataclass(frozen=True, kw_only=True)
class Batch:
    """A ``-- sqlgate:batch key=id size=1000 pause=50ms`` directive."""

    key: str | None
    size: int | None
    pause_ms: int | None

    def to_json(self) -> dict[str, Any]:
        return dict(_json(self))
