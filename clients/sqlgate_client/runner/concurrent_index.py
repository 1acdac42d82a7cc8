"""The index a ``CREATE INDEX CONCURRENTLY`` statement names, and what an interrupted one left.

``CREATE INDEX CONCURRENTLY`` commits the index's catalog entry first and builds it
afterwards; a run killed (or a backend terminated, or a server crash) in between leaves
an ``INVALID`` index under the statement's name, and one interrupted after the build but
before the runner recorded progress leaves a complete one. Either way a plain rerun fails
with "already exists". Before running such a statement the runner looks up *that* index
— the name the statement gives, on the table it names — and drops it if it is invalid,
or records the statement as done if it is valid and an earlier run of this migration had
reached the statement. After a failure it drops only that index if it became invalid:
never an invalid index elsewhere in the database. A statement without an index name
(PostgreSQL picks one) is not recovered automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from psycopg import Connection, sql

from sqlgate_client.sqlsplit import Statement, TokenKind

State = Literal["absent", "valid", "invalid"]


@dataclass(frozen=True)
class IndexTarget:
    """``name`` as PostgreSQL stores it; ``table`` as written (resolved by ``to_regclass``)."""

    name: str
    table: str


def _ident(text: str, kind: TokenKind) -> str:
    if kind is TokenKind.QUOTED_IDENT:
        return text[1:-1].replace('""', '"')
    return text.lower()


def target_of(statement: Statement) -> IndexTarget | None:
    """The named index of ``CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name ON
    [ONLY] table ...``; None for any other statement or an unnamed index."""
    toks = [t for t in statement.tokens if t.kind is not TokenKind.COMMENT]
    words = [t.upper if t.kind is TokenKind.WORD else None for t in toks]
    i = 1
    if words[:1] != ["CREATE"]:
        return None
    if words[i : i + 1] == ["UNIQUE"]:
        i += 1
    if words[i : i + 2] != ["INDEX", "CONCURRENTLY"]:
        return None
    i += 2
    if words[i : i + 3] == ["IF", "NOT", "EXISTS"]:
        i += 3
    if i >= len(toks) or words[i] == "ON":
        return None
    name_tok = toks[i]
    if name_tok.kind not in (TokenKind.WORD, TokenKind.QUOTED_IDENT):
        return None
    i += 1
    if words[i : i + 1] != ["ON"]:
        return None
    i += 1
    if words[i : i + 1] == ["ONLY"]:
        i += 1
    table: list[str] = []
    while i < len(toks):
        t = toks[i]
        if t.kind in (TokenKind.WORD, TokenKind.QUOTED_IDENT) or (
            t.kind is TokenKind.PUNCT and t.text == "." and table
        ):
            if t.kind is TokenKind.WORD and t.upper == "USING":
                break
            table.append(t.text)
            i += 1
            continue
        break
    if not table or table[-1] == ".":
        return None
    return IndexTarget(_ident(name_tok.text, name_tok.kind), "".join(table))


def state(conn: Connection[tuple[object, ...]], target: IndexTarget) -> tuple[State, str]:
    """Whether that index exists on that table, and if so whether it is valid; with its
    schema-qualified name for a DROP."""
    row = conn.execute(
        "SELECT format('%%I.%%I', n.nspname, c.relname), i.indisvalid AND i.indisready"
        " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = %s AND i.indrelid = to_regclass(%s)",
        (target.name, target.table),
    ).fetchone()
    if row is None:
        return "absent", ""
    return ("valid" if row[1] else "invalid"), str(row[0])


def drop_invalid(conn: Connection[tuple[object, ...]], qualified: str) -> None:
    """``DROP INDEX CONCURRENTLY IF EXISTS`` the one index (autocommit connection)."""
    conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS ") + sql.SQL(qualified))
