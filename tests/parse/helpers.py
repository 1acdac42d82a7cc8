"""Small helpers shared by the parser tests."""

from __future__ import annotations

from typing import Any

from sqlgate.model import Statement
from sqlgate.parse import ParsedSet, SourceFile, parse_migrations


def parse(sql: str, dialect: str = "postgres", **kw: Any) -> ParsedSet:
    return parse_migrations([SourceFile("m.sql", sql.encode())], dialect, **kw)  # type: ignore[arg-type]


def one(sql: str, dialect: str = "postgres") -> dict[str, Any]:
    stmts = parse(sql, dialect).statements
    assert len(stmts) == 1, [s.to_json() for s in stmts]
    return stmts[0].to_json()


def kinds(stmts: list[Statement]) -> list[str]:
    return [s.kind for s in stmts]
