"""Rewriting a ``-- sqlgate:batch`` UPDATE/DELETE into key-range chunks.

Only a single-table ``UPDATE t [AS a] SET ... [WHERE ...]`` or
``DELETE FROM t [AS a] [WHERE ...]`` is rewritten: the runner appends
``AND key > last AND key <= next`` to the (parenthesised) original condition. Anything
with FROM/USING joins, RETURNING, WITH, WHERE CURRENT OF, or that assigns the key
column itself is refused: chunking it could skip or repeat rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from sqlgate_client.runner.errors import UnsupportedSql
from sqlgate_client.sqlsplit import BatchDirective, Statement, Token, TokenKind


@dataclass(frozen=True)
class ChunkedStatement:
    """The pieces needed to run one chunk and to find the next boundary."""

    head: str  # statement text before WHERE (or all of it)
    where: str | None  # original condition, without the WHERE keyword
    table: str  # the target table as written in the source
    column: sql.Composable  # qualified key column
    key: BatchDirective

    def chunk(self, last: str | None, upper: str | None) -> sql.Composed:
        """The statement restricted to ``last < key <= upper`` (None: unbounded side)."""
        conds: list[sql.Composable] = []
        if self.where is not None:
            conds.append(sql.SQL("(") + sql.SQL(self.where) + sql.SQL(")"))
        if last is not None:
            conds.append(self.column + sql.SQL(" > ") + sql.Literal(last))
        if upper is not None:
            conds.append(self.column + sql.SQL(" <= ") + sql.Literal(upper))
        query = sql.SQL(self.head)
        if conds:
            return sql.Composed([query, sql.SQL(" WHERE "), sql.SQL(" AND ").join(conds)])
        return sql.Composed([query])

    def boundary(self, last: str | None) -> sql.Composed:
        """``SELECT key::text`` of the size-th key after ``last`` (None: fewer remain)."""
        key = sql.Identifier(self.key.key)
        parts: list[sql.Composable] = [
            sql.SQL("SELECT "),
            key,
            sql.SQL("::text AS sqlgate_position FROM "),  # not ORDER BY the text
            sql.SQL(self.table),
        ]
        if last is not None:
            parts += [sql.SQL(" WHERE "), key, sql.SQL(" > "), sql.Literal(last)]
        parts += [
            sql.SQL(" ORDER BY "),
            key,
            sql.SQL(" LIMIT 1 OFFSET "),
            sql.Literal(self.key.size - 1),
        ]
        return sql.Composed(parts)

    def max_key(self, last: str | None) -> sql.Composed:
        """``SELECT max(key)::text`` after ``last``: the bound of the final, short chunk."""
        key = sql.Identifier(self.key.key)
        parts: list[sql.Composable] = [
            sql.SQL("SELECT max("),
            key,
            sql.SQL(")::text FROM "),
            sql.SQL(self.table),
        ]
        if last is not None:
            parts += [sql.SQL(" WHERE "), key, sql.SQL(" > "), sql.Literal(last)]
        return sql.Composed(parts)

    def null_keys(self) -> sql.Composed:
        key = sql.Identifier(self.key.key)
        return sql.Composed(
            [
                sql.SQL("SELECT EXISTS (SELECT 1 FROM "),
                sql.SQL(self.table),
                sql.SQL(" WHERE "),
                key,
                sql.SQL(" IS NULL)"),
            ]
        )


def _name(tokens: list[Token], i: int) -> int:
    """End index (exclusive) of a possibly qualified name starting at ``i``."""
    ident = (TokenKind.WORD, TokenKind.QUOTED_IDENT)
    if i >= len(tokens) or tokens[i].kind not in ident:
        return -1
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].text == "." and tokens[j + 1].kind in ident:
        j += 2
    return j


def _unquote(tok: Token) -> str:
    if tok.kind is TokenKind.QUOTED_IDENT:
        return tok.text[1:-1].replace('""', '"')
    return tok.text.lower()


def rewrite(stmt: Statement, where_file: str) -> ChunkedStatement:
    """Analyse a batched statement; UnsupportedSql when it cannot be chunked safely."""
    if stmt.batch is None:
        raise ValueError("statement has no batch directive")
    toks = list(stmt.tokens)
    where = f"{where_file}:{stmt.line}"

    def refuse(reason: str) -> UnsupportedSql:
        return UnsupportedSql(f"{where}: sqlgate:batch cannot chunk this statement: {reason}")

    words = stmt.words()
    if words[:1] == ["UPDATE"]:
        i = 1
    elif words[:2] == ["DELETE", "FROM"]:
        i = 2
    else:
        raise refuse("only a single-table UPDATE or DELETE can be batched")
    if i < len(toks) and toks[i].upper == "ONLY":
        i += 1
    end = _name(toks, i)
    if end < 0:
        raise refuse("no target table")
    table_text = stmt.text[toks[i].start - toks[0].start : toks[end - 1].end - toks[0].start]
    alias_tok: Token | None = None
    j = end
    if j < len(toks) and toks[j].upper == "AS":
        j += 1
    if (
        j < len(toks)
        and toks[j].kind in (TokenKind.WORD, TokenKind.QUOTED_IDENT)
        and toks[j].upper not in {"SET", "WHERE"}
    ):
        alias_tok = toks[j]
    # top-level keyword scan
    depth = 0
    where_idx: int | None = None
    set_idx: int | None = None
    for k, t in enumerate(toks):
        if t.kind is TokenKind.PUNCT and t.text == "(":
            depth += 1
        elif t.kind is TokenKind.PUNCT and t.text == ")":
            depth -= 1
        elif depth == 0 and t.kind is TokenKind.WORD:
            u = t.upper
            if u in {"FROM", "USING"} and k >= i:
                raise refuse(f"{u} joins other tables")
            if u in {"RETURNING", "WITH"}:
                raise refuse(f"{u} is not supported in a batch")
            if u == "SET" and set_idx is None:
                set_idx = k
            if u == "WHERE":
                if where_idx is not None:
                    raise refuse("several WHERE clauses")
                where_idx = k
    if words[0] == "UPDATE":
        if set_idx is None:
            raise refuse("UPDATE without SET")
        stop = where_idx if where_idx is not None else len(toks)
        depth = 0
        for k in range(set_idx + 1, stop):
            t = toks[k]
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            if (
                t.kind in (TokenKind.WORD, TokenKind.QUOTED_IDENT)
                and _unquote(t) == stmt.batch.key
                and (k == set_idx + 1 or toks[k - 1].text in {",", "(", "."})
            ):
                raise refuse(f"it assigns the batch key column {stmt.batch.key}")
    base = toks[0].start
    if where_idx is not None:
        after = toks[where_idx + 1 : where_idx + 3]
        if [t.upper for t in after] == ["CURRENT", "OF"]:
            raise refuse("WHERE CURRENT OF")
        if where_idx + 1 >= len(toks):
            raise refuse("empty WHERE")
        head = stmt.text[: toks[where_idx].start - base].rstrip()
        cond: str | None = stmt.text[toks[where_idx + 1].start - base :]
    else:
        head, cond = stmt.text, None
    qualifier = alias_tok.text if alias_tok is not None else table_text
    column = sql.SQL(qualifier + ".") + sql.Identifier(stmt.batch.key)
    return ChunkedStatement(head=head, where=cond, table=table_text, column=column, key=stmt.batch)
