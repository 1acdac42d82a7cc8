"""Load and validate a catalog JSON file (the output of ``sqlgate catalog``).

A catalog feeds policy facts such as "which indexes exist", so a malformed one must
be refused, not half-read: every required key is checked for presence and type, and
the error names the JSON path. Keys beyond version 1's are allowed (forward
compatible); policies/schema/catalog.json states the same shape as a JSON Schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlgate.errors import CatalogError

CATALOG_VERSION = 1
MAX_CATALOG_BYTES = 64 * 1024 * 1024
# A version-1 catalog is about six levels deep; forward-compatible extra keys may nest
# a little more. Deeper documents are refused as input errors before anything walks
# them recursively (validation, the policy input, the engine).
MAX_CATALOG_DEPTH = 64

TABLE_KINDS = frozenset({"table", "partitioned", "view", "materialized_view", "foreign_table"})
CONSTRAINT_TYPES = frozenset({"check", "unique", "primary_key", "exclude"})
FK_ACTIONS = frozenset({"no_action", "restrict", "cascade", "set_null", "set_default"})
IDENTITY = frozenset({"always", "by_default", "auto_increment"})
GENERATED_KINDS = frozenset({"stored", "virtual"})

Check = Callable[[Any, str], None]


class _Invalid(Exception):
    pass


def _fail(path: str, expected: str, value: Any) -> None:
    raise _Invalid(f"{path}: expected {expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        _fail(path, "a string", value)


def _name(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        _fail(path, "a non-empty string", value)


def _bool(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        _fail(path, "a boolean", value)


def _int_at_least(minimum: int) -> Check:
    def check(value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            _fail(path, f"an integer >= {minimum}", value)

    return check


def _one_of(options: frozenset[str]) -> Check:
    def check(value: Any, path: str) -> None:
        if value not in options:
            _fail(path, f"one of {sorted(options)}", value)

    return check


def _nullable(inner: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if value is not None:
            inner(value, path)

    return check


def _list_of(inner: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        for i, item in enumerate(value):
            inner(item, f"{path}[{i}]")

    return check


def _object(required: dict[str, Check], optional: dict[str, Check] | None = None) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        for key, inner in required.items():
            if key not in value:
                raise _Invalid(f"{path}: missing required key {key!r}")
            inner(value[key], f"{path}.{key}")
        for key, inner in (optional or {}).items():
            if key in value:
                inner(value[key], f"{path}.{key}")

    return check


def _rfc3339(value: Any, path: str) -> None:
    _string(value, path)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in str(value):
        _fail(path, "an RFC 3339 timestamp with a time zone", value)


_names = _list_of(_string)

_column = _object(
    {
        "name": _name,
        "type": _name,
        "nullable": _bool,
        "default": _nullable(_string),
        "identity": _nullable(_one_of(IDENTITY)),
        "generated": _nullable(_object({"kind": _one_of(GENERATED_KINDS), "expression": _string})),
    }
)
_index = _object(
    {
        "name": _name,
        "columns": _names,
        "unique": _bool,
        "primary": _bool,
        "partial": _bool,
        "valid": _bool,
        "method": _name,
    },
    {"include": _names, "predicate": _nullable(_string), "definition": _string},
)
_constraint = _object(
    {
        "name": _name,
        "type": _one_of(CONSTRAINT_TYPES),
        "columns": _names,
        "validated": _bool,
        "definition": _string,
    }
)
_foreign_key = _object(
    {
        "name": _name,
        "columns": _names,
        "ref_table": _name,
        "ref_columns": _names,
        "validated": _bool,
        "on_delete": _one_of(FK_ACTIONS),
    },
    {"on_update": _one_of(FK_ACTIONS), "definition": _string},
)
_table = _object(
    {
        "schema": _name,
        "name": _name,
        "kind": _one_of(TABLE_KINDS),
        "row_estimate": _int_at_least(-1),
        "size_bytes": _int_at_least(0),
        "columns": _list_of(_column),
        "indexes": _list_of(_index),
        "constraints": _list_of(_constraint),
        "foreign_keys": _list_of(_foreign_key),
    },
    {"partition_of": _nullable(_name)},
)
_extension = _object({"name": _name, "version": _string, "schema": _name})
_catalog = _object(
    {
        "version": _int_at_least(1),
        "dialect": _one_of(frozenset({"postgres", "mysql"})),
        "server_version": _name,
        "server_version_num": _int_at_least(0),
        "database": _string,
        "taken_at": _rfc3339,
        "tables": _list_of(_table),
        "schemas": _names,
        "extensions": _list_of(_extension),
    },
    {
        "flavor": _one_of(frozenset({"mysql", "mariadb"})),
        # The target's migration history (sqlgate.catalog.history): optional, older
        # catalogs have none.
        "history": _list_of(
            _object({"tool": _name, "table": _name, "applied": _names}, {"through": _name})
        ),
    },
)


def _too_deep(doc: Any, limit: int) -> bool:
    """Whether ``doc`` nests lists/objects more than ``limit`` levels (iteratively)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_catalog_json(data: bytes | str, *, source: str) -> Any:
    """The JSON document in ``data``; CatalogError if it is not JSON or nests too deeply."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise CatalogError("catalog is not valid UTF-8", file=source) from exc
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"catalog is not valid JSON: {exc.msg} at line {exc.lineno}", file=source
        ) from exc
    except RecursionError:
        raise CatalogError(
            f"catalog nests deeper than {MAX_CATALOG_DEPTH} levels", file=source
        ) from None


def validate_catalog(doc: Any, *, source: str = "catalog") -> dict[str, Any]:
    """Return ``doc`` if it is a well-formed version-1 catalog; raise CatalogError if not."""
    if _too_deep(doc, MAX_CATALOG_DEPTH):
        raise CatalogError(f"catalog nests deeper than {MAX_CATALOG_DEPTH} levels", file=source)
    if isinstance(doc, dict) and doc.get("version") != CATALOG_VERSION:
        raise CatalogError(
            f"unsupported catalog version {doc.get('version')!r} (this sqlgate reads "
            f"version {CATALOG_VERSION})",
            file=source,
        )
    try:
        _catalog(doc, "$")
    except _Invalid as exc:
        raise CatalogError(f"malformed catalog: {exc}", file=source) from None
    assert isinstance(doc, dict)
    seen: set[tuple[str, str]] = set()
    for i, table in enumerate(doc["tables"]):
        key = (table["schema"], table["name"])
        if key in seen:
            raise CatalogError(
                f"malformed catalog: $.tables[{i}]: duplicate table {key[0]}.{key[1]}",
                file=source,
            )
        seen.add(key)
    return doc


def load_catalog(path: str | Path) -> dict[str, Any]:
    """Read, parse and validate a catalog file."""
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_CATALOG_BYTES + 1)
    except OSError as exc:
        raise CatalogError(f"cannot read catalog: {exc.strerror or exc}", file=source) from exc
    if len(data) > MAX_CATALOG_BYTES:
        raise CatalogError(f"catalog is larger than {MAX_CATALOG_BYTES} bytes", file=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError("catalog is not valid UTF-8", file=source) from exc
    return validate_catalog(parse_catalog_json(text, source=source), source=source)
