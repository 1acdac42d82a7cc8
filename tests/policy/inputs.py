"""Build complete policy inputs (docs/contract.md §2) for the policy tests.

Every input built here is validated against policies/schema/input.json as it is built:
the tests only send inputs the documented schema accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "policies" / "schema" / "input.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

_SPECIFIC: dict[str, dict[str, Any]] = {
    "drop_table": {"tables": ["t"], "if_exists": False, "cascade": False},
    "create_table": {"table": "t", "columns": [], "foreign_keys": []},
    "create_index": {
        "name": "t_c_idx",
        "table": "t",
        "columns": ["c"],
        "unique": False,
        "concurrently": False,
        "if_not_exists": False,
        "partial": False,
    },
    "rename_column": {"table": "t", "column": "a", "new_name": "b"},
    "update": {"table": "t", "has_where": False, "batch": None},
    "delete": {"table": "t", "has_where": False, "batch": None},
    "unknown": {"reason": "not understood", "detail": ""},
}


def stmt(
    kind: str, index: int = 0, *, line: int = 1, facts: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """A statement with every common field set, the kind's usual fields, then `fields`."""
    column_action = "column" in fields or "column" in _SPECIFIC.get(kind, {})
    out: dict[str, Any] = {
        "kind": kind,
        "index": index,
        "file": "migrations/001.sql",
        "line": line,
        "column": 1,
        "end_line": line,
        "position": {"line": line, "column": 1, "end_line": line},
        "text": f"-- {kind}",
        "in_transaction": False,
        "opaque": kind == "unknown",
        "facts": {
            "lock": None,
            "table_created_in_set": False,
            "lock_timeout_set": False,
            "table_exists": None,
            **(facts or {}),
        },
    }
    out.update(_SPECIFIC.get(kind, {}))
    out.update(fields)
    if not column_action:
        out["column"] = 1
    return out


def policy_input(
    statements: list[dict[str, Any]],
    *,
    environment: str = "production",
    dialect: str = "postgres",
    indexes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A full policy input around `statements`, validated against the schema."""
    doc: dict[str, Any] = {
        "version": 1,
        "dialect": dialect,
        "environment": environment,
        "target": "main-db",
        "repo": "acme/app",
        "commit": "abc123",
        "server_version": None,
        "files": [
            {
                "path": "migrations/001.sql",
                "sha256": "0" * 64,
                "statements": len(statements),
                "metadata": {},
            }
        ],
        "statements": statements,
        "facts": {"tables_created": [], "indexes": indexes or []},
        "catalog": None,
    }
    VALIDATOR.validate(doc)
    return doc
