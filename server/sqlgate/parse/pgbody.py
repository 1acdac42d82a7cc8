"""Procedural code → statements: DO blocks and SQL / PL/pgSQL function bodies.

Why: a DO block, or a function the set defines and then calls, runs SQL that the gate
must see like any other statement — ``CREATE FUNCTION f() ... $$ DELETE FROM t $$`` then
``SELECT f()`` deleted every row under an ``allow``. PL/pgSQL is parsed with PostgreSQL's
own PL/pgSQL parser (``pglast.parse_plpgsql``); every static SQL statement in it, and every
expression that calls a function, becomes a model statement with its position in the
file. What cannot be read statically — ``EXECUTE`` of a non-constant string, transaction
control inside a procedure, a body that does not parse, another language — becomes an
``unknown`` statement (fail closed: a finding that needs approval), never nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from pglast import ast, parse_plpgsql
from pglast.parser import ParseError
from pglast.parser import parse_sql as _pglast_parse_sql

from sqlgate import model as m

Common = dict[str, Any]
Build = Callable[[Any, Common], list[m.Statement]]

# PL/pgSQL statements whose SQL is a string computed at run time.
_DYNAMIC = {"PLpgSQL_stmt_dynexecute": "query", "PLpgSQL_stmt_dynfors": "query"}
_TRANSACTION = {"PLpgSQL_stmt_commit", "PLpgSQL_stmt_rollback"}
_SQL_MODE = 0  # PLpgSQL_expr.parseMode RAW_PARSE_DEFAULT: a whole SQL statement
_TYPE_MODE = 1  # a type name (declarations): no SQL runs


def parse_sql(text: str) -> tuple[Any, ...]:
    """pglast's own (validating) parse: body snippets are small, and pgfile's faster
    parse swaps a class attribute per call, which costs more than it saves here."""
    return tuple(_pglast_parse_sql(text))


def body_text(options: Any) -> str | None:
    """The ``AS '...'`` body of CREATE FUNCTION / DO (the first string), or None."""
    for opt in options or ():
        if opt.defname == "as":
            arg = opt.arg
            if isinstance(arg, ast.String):
                return str(arg.sval)
            if isinstance(arg, (tuple, list)) and arg and isinstance(arg[0], ast.String):
                return str(arg[0].sval) if len(arg) == 1 else None  # C: (file, symbol)
    return None


class _Where:
    """Positions inside a body: body line k (1-based) is file line ``first + k - 1``."""

    def __init__(self, c: Common, body: str | None) -> None:
        self.c = c
        off = c["text"].find(body) if body else -1
        self.exact = off >= 0
        self.first = c["line"] + (c["text"].count("\n", 0, off) if off >= 0 else 0)
        self.body_col = (off - c["text"].rfind("\n", 0, off)) if off >= 0 else c["col"]

    def common(self, text: str, lineno: int | None, via: str) -> Common:
        """Where ``text`` (on body line ``lineno``) is: its exact line and column when it
        is found verbatim from that line on, else the line with column 1."""
        src: str = self.c["text"]
        line = self.first + (lineno - 1 if lineno and self.exact else 0)
        col = self.c["col"]
        nth = line - self.c["line"]
        start = 0
        for _ in range(nth):
            start = src.find("\n", start) + 1
        found = src.find(text, start) if text and self.exact else -1
        if found >= 0:
            line += src.count("\n", start, found)
            line_start = src.rfind("\n", 0, found) + 1
            col = (found - line_start + 1) + (self.c["col"] - 1 if line_start == 0 else 0)
        elif nth > 0:
            col = 1
        return {
            **self.c,
            "text": text,
            "line": line,
            "col": col,
            "end_line": line + text.count("\n"),
            "via": via,
        }


def do_block(n: Any, c: Common, build: Build) -> list[m.Statement]:
    """The DO block (opaque only when its body cannot be parsed) and its statements."""
    language = "plpgsql"
    for opt in n.args or ():
        if opt.defname == "language":
            language = str(opt.arg.sval).lower()
    body = body_text(n.args)
    if language != "plpgsql" or body is None:
        return [m.DoBlock(**{**c, "opaque": True}, language=language)]
    try:
        tree = parse_plpgsql(c["text"])
    except (ParseError, RecursionError, ValueError):
        return [m.DoBlock(**{**c, "opaque": True}, language=language)]
    inner = list(_plpgsql(tree, _Where(c, body), "do", build))
    return [m.DoBlock(**c, language=language), *inner]


def function_body(
    n: Any, c: Common, name: str, language: str | None, build: Build
) -> tuple[m.Statement, ...] | None:
    """The statements of a SQL or PL/pgSQL function body, or None if not understood."""
    via = f"function {name}"
    if language == "sql" and n.sql_body is not None:  # BEGIN ATOMIC ... END: already parsed
        where = _Where(c, None)
        out: list[m.Statement] = []
        body = n.sql_body
        for group in body if isinstance(body, (tuple, list)) else (body,):
            for node in group if isinstance(group, (tuple, list)) else (group,):
                if isinstance(node, ast.ReturnStmt):  # RETURN expr: what SELECT expr runs
                    target = ast.ResTarget(val=node.returnval)
                    node = ast.SelectStmt(targetList=(target,))  # noqa: PLW2901
                out.extend(_built(node, where.common(c["text"], None, via), build))
        return tuple(out)
    body = body_text(n.options)
    if body is None:
        return None
    where = _Where(c, body)
    if language == "sql":
        return tuple(_sql_text(body, where, 1, via, build))
    if language == "plpgsql":
        try:
            tree = parse_plpgsql(c["text"])
        except (ParseError, RecursionError, ValueError):
            return None
        return tuple(_plpgsql(tree, where, via, build))
    return None


def _built(node: Any, c: Common, build: Build) -> list[m.Statement]:
    try:
        return [_with_via(s, c["via"]) for s in build(node, c)]
    except RecursionError:
        return [m.Unknown(**c, reason="statement too deeply nested for sqlgate's model")]
    except Exception as exc:  # noqa: BLE001 - an odd tree must refuse, not crash the review
        return [
            m.Unknown(**c, reason="sqlgate cannot model this statement", detail=repr(exc)[:500])
        ]


def _with_via(s: m.Statement, via: str) -> m.Statement:
    return s if s.via else dataclasses.replace(s, via=via)


def _sql_text(
    text: str, where: _Where, lineno: int, via: str, build: Build
) -> Iterator[m.Statement]:
    """Each statement of ``text`` (which starts at body line ``lineno``)."""
    try:
        raw = parse_sql(text)
    except (ParseError, RecursionError) as exc:
        c = where.common(text, lineno, via)
        yield m.Unknown(**c, reason=f"SQL in {via} does not parse", detail=f"pglast: {exc}"[:500])
        return
    for r in raw:
        start = r.stmt_location or 0
        piece = text[start : start + r.stmt_len] if r.stmt_len else text[start:]
        stripped = piece.strip()
        line = lineno + text.count("\n", 0, start + len(piece) - len(piece.lstrip()))
        yield from _built(r.stmt, where.common(stripped or piece, line, via), build)


def _plpgsql(tree: Any, where: _Where, via: str, build: Build) -> Iterator[m.Statement]:
    """Walk the PL/pgSQL JSON tree in source order and model the SQL it runs."""
    yield from _walk(tree, where, via, build, None)


def _walk(
    node: Any, where: _Where, via: str, build: Build, lineno: int | None
) -> Iterator[m.Statement]:
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, where, via, build, lineno)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "PLpgSQL_expr" and isinstance(value, dict):
            yield from _expr(value, where, via, build, lineno)
            continue
        if not isinstance(value, dict):
            if isinstance(value, list):
                yield from _walk(value, where, via, build, lineno)
            continue
        line = value.get("lineno", lineno) if key.startswith("PLpgSQL_stmt_") else lineno
        if key in _TRANSACTION:
            c = where.common(key.removeprefix("PLpgSQL_stmt_").upper(), line, via)
            yield m.Unknown(
                **c, reason=f"transaction control inside {via}: not reviewed as part of the set"
            )
            continue
        if key in _DYNAMIC or (key == "PLpgSQL_stmt_open" and "dynquery" in value):
            field = _DYNAMIC.get(key, "dynquery")
            rest = {k: v for k, v in value.items() if k != field}
            yield from _dynamic(value.get(field), where, via, build, line)
            yield from _walk(rest, where, via, build, line)
            continue
        if key == "PLpgSQL_stmt_return_query" and "dynquery" in value:
            rest = {k: v for k, v in value.items() if k != "dynquery"}
            yield from _dynamic(value.get("dynquery"), where, via, build, line)
            yield from _walk(rest, where, via, build, line)
            continue
        yield from _walk(value, where, via, build, line)


def _expr(
    e: dict[str, Any], where: _Where, via: str, build: Build, lineno: int | None
) -> Iterator[m.Statement]:
    query = str(e.get("query", ""))
    mode = e.get("parseMode", _SQL_MODE)
    if mode == _TYPE_MODE or not query.strip():
        return
    if mode == _SQL_MODE:
        yield from _sql_text(query, where, lineno or 1, via, build)
        return
    # An expression (condition, assignment, default): model it as SELECT <expr> and keep
    # it only when it calls a function (the only way an expression runs more SQL).
    expr = query.split(":=", 1)[1] if mode != 2 and ":=" in query else query
    if "(" not in expr:  # no call and no subquery: nothing runs (and parsing it is costly)
        return
    try:
        raw = parse_sql(f"SELECT {expr}")
    except (ParseError, RecursionError) as exc:
        c = where.common(query, lineno, via)
        yield m.Unknown(
            **c, reason=f"expression in {via} does not parse", detail=f"pglast: {exc}"[:500]
        )
        return
    if len(raw) != 1:
        c = where.common(query, lineno, via)
        yield m.Unknown(**c, reason=f"expression in {via} is not one expression")
        return
    built = _built(raw[0].stmt, where.common(query.strip(), lineno, via), build)
    if any(s.functions or s.kind != "select" for s in built):
        yield from built


def _dynamic(
    e: Any, where: _Where, via: str, build: Build, lineno: int | None
) -> Iterator[m.Statement]:
    """EXECUTE of a constant string is that SQL; of anything else it stays opaque."""
    query = str((e or {}).get("PLpgSQL_expr", {}).get("query", ""))
    text = _constant_string(query)
    if text is None:
        c = where.common(f"EXECUTE {query}".strip(), lineno, via)
        yield m.Unknown(
            **c,
            reason=f"dynamic SQL in {via}: EXECUTE of a string computed at run time cannot "
            "be reviewed",
        )
        # The expression that builds the string may itself call functions.
        yield from _expr({"query": query, "parseMode": 2}, where, via, build, lineno)
        return
    yield from _sql_text(text, where, lineno or 1, via, build)


def _constant_string(expr: str) -> str | None:
    """The value of a string constant expression ('..', $q$..$q$, E'..', 'a' || 'b')."""
    try:
        raw = parse_sql(f"SELECT {expr}")
    except (ParseError, RecursionError):
        return None
    if len(raw) != 1 or not isinstance(raw[0].stmt, ast.SelectStmt):
        return None
    targets = raw[0].stmt.targetList or ()
    if len(targets) != 1 or raw[0].stmt.fromClause:
        return None
    return _string_value(targets[0].val)


def _string_value(node: Any) -> str | None:
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.String):
        return str(node.val.sval)
    if isinstance(node, ast.TypeCast):
        return _string_value(node.arg)
    if isinstance(node, ast.A_Expr) and node.name and getattr(node.name[-1], "sval", "") == "||":
        a, b = _string_value(node.lexpr), _string_value(node.rexpr)
        return None if a is None or b is None else a + b
    return None
