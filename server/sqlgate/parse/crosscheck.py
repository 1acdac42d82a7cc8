"""Cross-check of a PostgreSQL statement's kind between pglast and sqlglot.

Both parse the statement independently. Each result is reduced to a coarse family
(``create:table``, ``alter:table``, ``update`` ...). When both give a family and they
differ, the statement is refused as ``unknown``. sqlglot failing or keeping an opaque
``Command`` is not a disagreement: PostgreSQL's own grammar (pglast) has the final
word on what PostgreSQL accepts, and sqlglot covers less of it.

What is cross-checked and what is not (the full sqlglot parse is the costly part):

- A statement whose pglast kind has no family (DO, CREATE FUNCTION, GRANT, ...) is not
  checked: sqlglot has no family to contradict it with.
- A statement whose text *starts* with one of the exact keyword sequences in
  ``_PREFIXES`` (ASCII letters, separated by plain whitespace only — no comments, no
  quotes) whose family equals pglast's is not re-parsed: sqlglot dispatches on those
  leading tokens to one statement parser (``_parse_update``, ``_parse_create`` with that
  CREATABLE token, ...) that can only return that family, an opaque ``Command`` or an
  error — never another family — so the full parse could not report a disagreement.
  ``tests/parse/test_crosscheck.py`` checks this shortcut against the full parse.
- Every other statement with a family (``WITH ... INSERT``, ``CREATE TEMP TABLE``,
  ``(SELECT ...)``, a leading-token sequence that names a different family than
  pglast's, comments between the keywords ...) gets the full sqlglot parse.
"""

from __future__ import annotations

import re

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


_W = r"[ \t\r\n]+"
_PREFIXES = [
    (re.compile(pattern, re.ASCII | re.IGNORECASE), family)
    for pattern, family in (
        (rf"CREATE{_W}TABLE{_W}", "create:table"),
        (rf"CREATE{_W}(?:UNIQUE{_W})?INDEX{_W}", "create:index"),
        (rf"CREATE{_W}(?:OR{_W}REPLACE{_W})?VIEW{_W}", "create:view"),
        (rf"DROP{_W}TABLE{_W}", "drop:table"),
        (rf"DROP{_W}INDEX{_W}", "drop:index"),
        (rf"DROP{_W}VIEW{_W}", "drop:view"),
        (rf"ALTER{_W}TABLE{_W}", "alter:table"),
        (rf"INSERT{_W}", "insert"),
        (rf"UPDATE{_W}", "update"),
        (rf"DELETE{_W}", "delete"),
        (rf"SELECT{_W}", "select"),
        (rf"TRUNCATE{_W}", "truncate"),
        (r"(?:BEGIN|COMMIT|ROLLBACK|END)(?:[ \t\r\n]|\Z)", "transaction"),
    )
]


def prefix_family(text: str) -> str | None:
    """The family sqlglot's statement dispatch is bound to by ``text``'s leading keywords."""
    for pattern, family in _PREFIXES:
        if pattern.match(text):
            return family
    return None


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
    except Exception as exc:  # noqa: BLE001 - sqlglot's own bugs (e.g. TypeError) = no opinion
        return None, f"sqlglot failed: {type(exc).__name__}"
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
    if mine is None or prefix_family(statement.text) == mine:
        return None
    return full_disagreement(statement)


def full_disagreement(statement: Statement) -> str | None:
    """``disagreement`` always through sqlglot's full parse (the reference for the shortcut)."""
    mine = model_family(statement)
    if mine is None:
        return None
    theirs, said = sqlglot_family(statement.text)
    if theirs is None or theirs == mine:
        return None
    return f"pglast: {statement.kind} ({mine}); {said} ({theirs})"
