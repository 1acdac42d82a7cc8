"""MySQL online-DDL details for the model: ALGORITHM/LOCK clauses, column placement,
charsets, inline REFERENCES, and the few statements sqlglot keeps as opaque commands that
can still be modelled exactly.

The MySQL rules (policies/rules/mysql/) need to know what InnoDB will do with an ALTER:
whether the statement pins ``ALGORITHM=INSTANT|INPLACE`` / ``LOCK=NONE`` (MySQL then
refuses rather than blocks), moves a column (``FIRST``/``AFTER``), converts a charset, or
builds a FULLTEXT/SPATIAL index. Commands are only modelled when a strict pattern matches
the whole statement and sqlglot re-parses the body; anything else stays ``unknown``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sqlgate import model as m

Common = dict[str, object]

_ONLINE = r"(?P<opts>(?:\s*,?\s*(?:ALGORITHM|LOCK)\s*=?\s*\w+)*)\s*$"
_CREATE_INDEX = re.compile(
    r"^\s*(?P<kind>UNIQUE|FULLTEXT|SPATIAL)?\s*(?P<rest>INDEX\s.*?)" + _ONLINE,
    re.IGNORECASE | re.DOTALL,
)
_CONVERT = re.compile(
    r"^\s*TABLE\s+(?P<table>`[^`]+`|[\w$.]+)\s+CONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)"
    r"\s+(?P<charset>\w+)(?:\s+COLLATE\s+\w+)?" + _ONLINE,
    re.IGNORECASE | re.DOTALL,
)
_OPT = re.compile(r"(ALGORITHM|LOCK)\s*=?\s*(\w+)", re.IGNORECASE)


def option(options: Sequence[exp.Expression], cls: type[exp.Expression]) -> str | None:
    """The upper-case value of an ALTER TABLE option (AlgorithmProperty, LockProperty)."""
    for o in options:
        if isinstance(o, cls) and o.this is not None:
            return str(o.this.name).upper()
    return None


def online_ddl(
    stmts: list[m.Statement], algorithm: str | None, lock: str | None
) -> list[m.Statement]:
    """Attach the statement's ALGORITHM/LOCK clauses to every model statement it produced."""
    if algorithm is None and lock is None:
        return stmts
    return [
        dataclasses.replace(s, algorithm=algorithm, lock_option=lock)  # type: ignore[call-arg]
        if hasattr(s, "lock_option")
        else s
        for s in stmts
    ]


def placement(cd: exp.Expression, name: Callable[[object], str]) -> str | None:
    """``FIRST`` or ``AFTER <col>`` from a column definition, None when not given."""
    pos = cd.args.get("position")
    if not isinstance(pos, exp.ColumnPosition):
        return None
    where = str(pos.args.get("position") or "").upper()
    return f"{where} {name(pos.this)}" if pos.this is not None else where


def inline_references(cd: exp.Expression, name: Callable[[object], str]) -> str | None:
    """The referenced table of an inline ``REFERENCES`` clause (MySQL ignores it)."""
    for cc in cd.args.get("constraints") or ():
        k = cc.args.get("kind")
        if isinstance(k, exp.Reference):
            return name(k.this)
    return None


def charset(cd: exp.Expression, name: Callable[[object], str]) -> str | None:
    """The CHARACTER SET of a column definition, None when not given."""
    for node in cd.find_all(exp.CharacterSetColumnConstraint):
        return name(node.this)
    return None


def _opts(text: str) -> dict[str, str]:
    return {k.upper(): v.upper() for k, v in _OPT.findall(text or "")}


def command(
    e: exp.Command, common: Common, create: Callable[[exp.Create, Common], list[m.Statement]]
) -> list[m.Statement] | None:
    """Model CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX ... [ALGORITHM/LOCK] and ALTER TABLE ...
    CONVERT TO CHARACTER SET, which sqlglot keeps as commands; None for anything else."""
    head = str(e.this).upper()
    body = str(e.expression or "")
    if head == "CREATE" and (match := _CREATE_INDEX.match(body)):
        kind = (match["kind"] or "").upper()
        try:
            inner = sqlglot.parse_one(
                f"CREATE {'UNIQUE ' if kind == 'UNIQUE' else ''}{match['rest']}", read="mysql"
            )
        except (ParseError, TokenError, RecursionError):
            return None
        if not isinstance(inner, exp.Create) or str(inner.args.get("kind")).upper() != "INDEX":
            return None
        opts = _opts(match["opts"])
        itype = kind.lower() if kind in ("FULLTEXT", "SPATIAL") else None
        built = [
            dataclasses.replace(s, index_type=itype) if isinstance(s, m.CreateIndex) else s
            for s in create(inner, common)
        ]
        return online_ddl(built, opts.get("ALGORITHM"), opts.get("LOCK"))
    if head == "ALTER" and (match := _CONVERT.match(body)):
        opts = _opts(match["opts"])
        stmt = m.AlterTableOther(
            **common,  # type: ignore[arg-type]
            table=match["table"].strip("`"),
            subtype="ConvertToCharset",
        )
        return online_ddl([stmt], opts.get("ALGORITHM"), opts.get("LOCK"))
    return None
