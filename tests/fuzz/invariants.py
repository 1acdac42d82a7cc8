"""The parser's fail-closed contract, checked on one input (shared by tests and bench).

For any bytes, ``parse_migrations`` returns statements or raises an ``InputError``
naming the file — never another exception — and drops nothing: every statement's text
is the source at its position, statements are in order and do not overlap, and what
lies between them is only whitespace, comments and separators (``;``, MySQL
``DELIMITER`` lines and the current delimiter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlgate.errors import InputError
from sqlgate.parse import Limits, ParsedSet, SourceFile, parse_migrations
from sqlgate.parse.placeholders import expand
from sqlgate.parse.source import decode

PATH = "fuzz/m.sql"

_PG_GAP = re.compile(r"[ \t\n\r\f\v]+|;|--[^\n]*")
_MY_GAP = re.compile(
    r"[ \t\n\r\f\v]+|#[^\n]*|--(?=[ \t\r\n]|\Z)[^\n]*|/\*(?![!+]).*?(?:\*/|\Z)", re.S
)
_MY_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.IGNORECASE)


def parse_or_refuse(
    content: bytes,
    dialect: str,
    *,
    variables: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> ParsedSet | InputError:
    """The parse, or the InputError it raised (which must name the file)."""
    try:
        return parse_migrations(
            [SourceFile(PATH, content)],
            dialect,  # type: ignore[arg-type]
            variables=variables,
            limits=limits or Limits(),
        )
    except InputError as exc:
        assert exc.file == PATH, f"error does not name the file: {exc!r}"
        assert str(exc).startswith(f"{PATH}: ") and len(str(exc)) > len(PATH) + 5, str(exc)
        return exc


def _pg_comment_end(text: str, i: int) -> int:
    depth, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _gap_residue(gap: str, dialect: str, delimiter: str) -> tuple[str, str]:
    """(what is left of ``gap`` after removing separators and comments, the delimiter)."""
    i, n, left = 0, len(gap), []
    while i < n:
        if dialect == "postgres" and gap.startswith("/*", i):
            i = _pg_comment_end(gap, i)
            continue
        if dialect == "mysql":
            d = _MY_DELIMITER.match(gap, i)
            if d is not None:
                delimiter, i = d.group(1), d.end()
                continue
            if gap.startswith(delimiter, i):
                i += len(delimiter)
                continue
        m = (_PG_GAP if dialect == "postgres" else _MY_GAP).match(gap, i)
        if m is not None and m.end() > i:
            i = m.end()
            continue
        left.append(gap[i])
        i += 1
    return "".join(left), delimiter


def check_no_drop(
    content: bytes, dialect: str, parsed: ParsedSet, variables: Mapping[str, str] | None = None
) -> None:
    """Every statement is the source at its position; only separators/comments between."""
    text = expand(decode(SourceFile(PATH, content)), variables, path=PATH)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    seen: list[tuple[int, int]] = []
    last = None
    for s in parsed.statements:
        key = (s.line, s.col, s.text)
        if key == last:  # the actions of one ALTER TABLE share position and text
            continue
        if s.via is not None:
            # Reached through a DO block or a called function body: inside the statement
            # that contains it (checked here), its text as PostgreSQL's PL/pgSQL parser
            # gives it (PERFORM x is SELECT x), so not necessarily the source verbatim.
            assert seen and starts[s.line - 1] < seen[-1][1] + 1, (s.via, s.line, seen[-1:])
            assert s.end_line >= s.line >= 1
            continue
        last = key
        start = starts[s.line - 1] + s.col - 1
        end = start + len(s.text)
        assert text[start:end] == s.text, (s.line, s.col, s.text, text[start:end])
        assert s.end_line == s.line + s.text.count("\n"), s
        assert not seen or start >= seen[-1][1], "statements overlap or are out of order"
        seen.append((start, end))
    assert len(seen) == parsed.statement_count, (len(seen), parsed.statement_count)
    pos, delimiter = 0, ";"
    for start, end in [*seen, (len(text), len(text))]:
        residue, delimiter = _gap_residue(text[pos:start], dialect, delimiter)
        assert residue == "", f"text outside every statement: {residue!r} in {text[pos:start]!r}"
        pos = end
