"""Review the body of a function the set defines where the set calls it.

Why: ``CREATE FUNCTION f() ... $$ DELETE FROM t $$`` then ``SELECT f()`` (or ``PERFORM
f()``, ``CALL f()``, a trigger the set creates with ``EXECUTE FUNCTION f()``) runs the
body's statements at the call; reviewing the CREATE FUNCTION alone let them through.
This set-level pass (calls may cross files) inserts, after each calling statement, a
copy of the body statements of every function of that name the set defined earlier,
with their own positions (in the defining file) and ``via`` = "function <name>"; calls
inside those bodies are followed the same way. A called body that is not understood,
recursion, or more expansion than the statement limit becomes an ``unknown`` statement
at the call (fail closed). Names compare on the unqualified name, lower-cased: a call
through another schema or search path is matched rather than missed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from sqlgate import model as m

_MAX_DEPTH = 16


def _key(name: str) -> str:
    return name.rsplit(".", 1)[-1].strip('"').lower()


def body_of(defn: m.CreateFunction) -> tuple[m.Statement, ...] | None:
    """The statements of a PostgreSQL function's body, parsed from its CREATE statement;
    None when the body is not understood (another language, a parse error)."""
    from sqlgate.parse import pg, pgbody
    from sqlgate.parse.pgfile import parse_sql

    try:
        raw = parse_sql(defn.text)
    except Exception:  # noqa: BLE001 - it parsed once as part of the file; refuse, not crash
        return None
    if len(raw) != 1:
        return None
    c = {
        "file": defn.file,
        "line": defn.line,
        "col": defn.col,
        "end_line": defn.end_line,
        "text": defn.text,
    }
    try:
        return pgbody.function_body(raw[0].stmt, c, defn.name, defn.language, pg.build)
    except RecursionError:
        return None


class _Inliner:
    def __init__(self, budget: int) -> None:
        self.defined: dict[str, list[m.CreateFunction]] = {}
        self.budget = budget
        self._bodies: dict[int, tuple[m.Statement, ...] | None] = {}

    def body(self, defn: m.CreateFunction) -> tuple[m.Statement, ...] | None:
        """Parsed on first call only: most functions a set defines are not called in it."""
        if defn.index not in self._bodies:
            self._bodies[defn.index] = body_of(defn)
        return self._bodies[defn.index]

    def expand(self, call: m.Statement, stack: tuple[str, ...]) -> list[m.Statement]:
        out: list[m.Statement] = []
        for fname in call.functions:
            key = _key(fname)
            for defn in self.defined.get(key, ()):
                out.extend(self._body(call, defn, (*stack, key)))
        return out

    def _body(
        self, call: m.Statement, defn: m.CreateFunction, stack: tuple[str, ...]
    ) -> list[m.Statement]:
        via = f"function {defn.name}"
        if isinstance(call, m.CreateTrigger):  # runs on every later write of the table
            via = f"trigger {call.name}: function {defn.name}"
        where: dict[str, Any] = {
            "file": call.file,
            "line": call.line,
            "col": call.col,
            "end_line": call.end_line,
            "text": call.text,
            "in_transaction": call.in_transaction,
            "via": via,
        }
        if stack.count(stack[-1]) > 1 or len(stack) > _MAX_DEPTH:
            return [m.Unknown(**where, reason=f"recursive call of {defn.name}: not expanded")]
        body = self.body(defn)
        if body is None:
            language = defn.language or "unknown"
            return [
                m.Unknown(
                    **where,
                    reason=f"calls {defn.name}, whose {language} body sqlgate cannot read",
                )
            ]
        out: list[m.Statement] = []
        for b in body:
            self.budget -= 1
            if self.budget < 0:
                return [
                    m.Unknown(**where, reason=f"expanding {defn.name} exceeds the statement limit")
                ]
            out.append(
                dataclasses.replace(
                    b,
                    file=defn.file,
                    in_transaction=call.in_transaction,
                    via=via if b.via in (None, f"function {defn.name}") else b.via,
                )
            )
            out.extend(self.expand(b, stack))
        return out


def inline_calls(
    statements: Sequence[m.Statement], budget: int, dialect: str = "postgres"
) -> list[m.Statement]:
    """``statements`` with the bodies of set-defined functions inserted after each call.

    PostgreSQL only: MySQL routine bodies are not read yet (their CALLs stay opaque).
    """
    if dialect != "postgres" or not any(isinstance(s, m.CreateFunction) for s in statements):
        return list(statements)
    inliner = _Inliner(budget)
    out: list[m.Statement] = []
    for i, s in enumerate(statements):
        if isinstance(s, m.CreateFunction):
            s = dataclasses.replace(s, index=i)  # noqa: PLW2901 - the body cache key
        if isinstance(s, m.CreateFunction):
            inliner.defined.setdefault(_key(s.name), []).append(s)
            out.append(s)
            continue
        expanded = inliner.expand(s, ()) if s.functions else []
        if isinstance(s, m.Call) and _key(s.name) in inliner.defined:
            understood = all(inliner.body(d) is not None for d in inliner.defined[_key(s.name)])
            out.append(dataclasses.replace(s, opaque=not understood))
        else:
            out.append(s)
        out.extend(expanded)
    return out
