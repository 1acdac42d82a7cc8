"""Cross-check of a PostgreSQL statement's kind between pglast and sqlglot.

Both parse the statement independently. Each result is reduced to a coarse family
(``create:table``, ``alter:table``, ``update`` ...). When both give a family and they
differ, the statement is refused as ``unknown``. sqlglot failing or keeping an opaque
``Command`` is not a disagreement: PostgreSQL's own grammar (pglast) has the final
word on what PostgreSQL accepts, and sqlglot covers less of it.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlgate.model import Statement

_ALTER_TABLE_KINDS = {
    "add_column", "drop_column", "rename_column", "alter_column_type", "set_not_null",
    "drop_not_null", "set_default", "drop_default", "add_constraint", "add_foreign_key",
    "drop_constraint", "validate_constraint", "rename_constraint", "alter_table_other",
    "rename_table",
}  # fmt: skip
_MODEL_FAMILY = {
    "create_table": "create:table",
    "create_index": "create:index",
    "create_view": "create:view",
    "drop_table": "drop:table",
    "drop_index": "drop:index",
    "drop_view": "drop:view",
    "insert": "insert",
    "update": "update",
    "delete": "delete",
    "select": "select",
    "truncate": "truncate",
    "transaction": "transaction",
} | dict.fromkeys(_ALTER_TABLE_KINDS, "alter:table")
_SQLGLOT_SIMPLE: dict[type, str] = {
    exp.Insert: "insert",
    exp.Update: "update",
    exp.Delete: "delete",
    exp.Select: "select",
    exp.Union: "select",
    exp.TruncateTable: "truncate",
    exp.Transaction: "transaction",
    exp.Commit: "transaction",
    exp.Rollback: "transaction",
}


def model_family(statement: Statement) -> str | None:
    return _MODEL_FAMILY.get(statement.kind)


def sqlglot_family(text: str) -> tuple[str | None, str]:
    """(family, what sqlglot said) for one PostgreSQL statement."""
    try:
        parsed = sqlglot.parse(text, read="postgres")
    except (ParseError, TokenError) as exc:
        return None, f"sqlglot: {str(exc).splitlines()[0][:200]}"
    except RecursionError:
        return None, "sqlglot: recursion limit"
    exprs = [e for e in parsed if e is not None]
    if len(exprs) != 1:
        return None, f"sqlglot: {len(exprs)} statements"
    e = exprs[0]
    name = type(e).__name__
    if type(e) in _SQLGLOT_SIMPLE:
        return _SQLGLOT_SIMPLE[type(e)], f"sqlglot: {name}"
    kind = str(e.args.get("kind") or "").upper()
    if isinstance(e, exp.Create) and kind in ("TABLE", "INDEX", "VIEW"):
        return f"create:{kind.lower()}", f"sqlglot: CREATE {kind}"
    if isinstance(e, exp.Drop) and kind in ("TABLE", "INDEX", "VIEW"):
        return f"drop:{kind.lower()}", f"sqlglot: DROP {kind}"
    if isinstance(e, exp.Alter) and kind == "TABLE":
        return "alter:table", "sqlglot: ALTER TABLE"
    return None, f"sqlglot: {name}"


def disagreement(statement: Statement) -> str | None:
    """A description of the disagreement, or None when sqlglot does not contradict pglast."""
    mine = model_family(statement)
    if mine is None:
        return None
    theirs, said = sqlglot_family(statement.text)
    if theirs is None or theirs == mine:
        return None
    return f"pglast: {statement.kind} ({mine}); {said} ({theirs})"
