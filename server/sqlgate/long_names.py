"""Identifiers longer than PostgreSQL keeps: found in the source, not the parse tree.

PostgreSQL's parser truncates a name over NAMEDATALEN - 1 = 63 bytes (with only a
NOTICE), and pglast's parser is PostgreSQL's, so the model already holds the truncated
name. The statement's own text is scanned with the same lexer instead: every identifier
token (quoted or not) whose name is longer than 63 bytes of UTF-8.
"""

from __future__ import annotations

from typing import Any

from pglast.parser import ParseError, scan

PG_MAX_BYTES = 63
# Statements that give something a name. A reference (DROP INDEX, ALTER TABLE ...) to a
# long name is truncated the same way and finds the object the truncated create made:
# reporting it was a false alarm on real repositories (bench/precision.md).
NAMING_KINDS = frozenset(
    {"add_column", "add_constraint", "add_foreign_key", "rename_table", "rename_column",
     "rename_constraint", "rename_object", "rename_index"}
)  # fmt: skip


def names_something(kind: str) -> bool:
    """``kind`` creates or renames an object (CREATE ..., ADD ..., RENAME ...)."""
    return kind.startswith("create_") or kind in NAMING_KINDS


def _name(token: str) -> str:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return token[1:-1].replace('""', '"')
    return token.lower()


def long_identifiers(text: str, dialect: str) -> list[dict[str, Any]]:
    """``{name, bytes}`` per identifier of ``text`` over 63 bytes (PostgreSQL only)."""
    if dialect != "postgres" or len(text.encode("utf-8", "surrogatepass")) <= PG_MAX_BYTES:
        return []
    try:
        tokens = scan(text)
    except (ParseError, ValueError):
        return []
    out: list[dict[str, Any]] = []
    for tok in tokens:
        if tok.name not in ("IDENT", "UIDENT"):
            continue
        raw = text[tok.start : tok.end + 1]  # pglast: character offsets, inclusive end
        name = _name(raw)
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > PG_MAX_BYTES and {"name": name, "bytes": size} not in out:
            out.append({"name": name, "bytes": size})
    return out
