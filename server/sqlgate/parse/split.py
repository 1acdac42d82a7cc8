"""Lexer-aware statement splitting for PostgreSQL (psql rules) and MySQL (mysql client rules).

Comments and quoted text never start, end or split a statement. PostgreSQL: ``--``,
nested ``/* */``, '...', E'...' (backslash escapes), "...", ``$tag$ ... $tag$``, and a
``;`` inside parentheses does not end a statement (as psql). MySQL: ``-- ``, ``#``,
``/* */``, '...' and "..." with backslash escapes, backticks, and ``DELIMITER`` lines
(stored procedures). A MySQL executable comment ``/*! ... */`` is statement content and
is flagged so the parser can refuse it. The splitter also measures nesting depth
(parentheses and BEGIN ... END blocks) so limits apply before any parser runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Dialect = Literal["postgres", "mysql"]

# The servers' lexers treat only ASCII whitespace as space; any other character (U+00A0,
# U+2003, ...) is part of a token (non-ASCII: an identifier character) and must not vanish.
_SPACES = " \t\n\r\f\v"
_SPACE = re.compile(r"[ \t\n\r\f\v]+")
_WORD = re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*|[0-9][A-Za-z0-9_.]*")
_PG_STR = re.compile(r"'(?:[^']|'')*'")
_PG_ESTR = re.compile(r"[Ee]'(?:[^'\\]|\\.|'')*'", re.DOTALL)
_PG_IDENT = re.compile(r'"(?:[^"]|"")*"')
_DOLLAR = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_MY_STR = {
    "'": re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL),
    '"': re.compile(r'"(?:[^"\\]|\\.|"")*"', re.DOTALL),
    "`": re.compile(r"`(?:[^`]|``)*`"),
}
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_BLOCK_OPENERS = {"begin", "case", "loop", "repeat"}


@dataclass(frozen=True)
class Segment:
    """One statement's exact text and where it is (1-based line/column, char offsets)."""

    text: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    comments_before: tuple[str, ...]
    depth: int
    executable_comment: bool = False
    unterminated: str | None = None


class TooManyStatements(Exception):
    """More segments than the ``limit`` given to ``split`` (raised as soon as it is passed)."""


class _Builder:
    def __init__(self, text: str, limit: int | None = None) -> None:
        self.text = text
        self.limit = limit
        self.segments: list[Segment] = []
        self.comments: list[str] = []
        self.first: int | None = None
        self.last_end = 0
        self.paren = 0
        self.blocks = 0
        self.depth = 0
        self.executable = False
        self.unterminated: str | None = None
        self.prev_word = ""
        self.atomic = 0
        # Line bookkeeping up to ``_pos``: segments close in order, so each close counts
        # only the newlines since the previous one (recounting from the file start made a
        # 50k-statement file take ~30 s to split).
        self._pos = 0
        self._line = 1
        self._bol = 0  # offset of the first character of line ``_line``

    def _locate(self, start: int) -> tuple[int, int]:
        """(1-based line, 1-based column) of offset ``start`` >= the previous one."""
        text = self.text
        newlines = text.count("\n", self._pos, start)
        if newlines:
            self._line += newlines
            self._bol = text.rfind("\n", self._pos, start) + 1
        self._pos = start
        return self._line, start - self._bol + 1

    def token(self, start: int, end: int) -> None:
        if self.first is None:
            self.first = start
        self.last_end = end

    def nest(self, paren: int = 0, blocks: int = 0) -> None:
        self.paren = max(0, self.paren + paren)
        self.blocks = max(0, self.blocks + blocks)
        self.depth = max(self.depth, self.paren + self.blocks)

    def close(self) -> None:
        if self.first is not None:
            start, end, text = self.first, self.last_end, self.text
            line, column = self._locate(start)
            end_line = line + text.count("\n", start, end)
            self.segments.append(
                Segment(
                    text[start:end],
                    start,
                    end,
                    line,
                    column,
                    end_line,
                    tuple(self.comments),
                    self.depth,
                    self.executable,
                    self.unterminated,
                )
            )
            if self.limit is not None and len(self.segments) > self.limit:
                raise TooManyStatements(self.limit)
        self.comments = []
        self.first = None
        self.paren = self.blocks = self.depth = 0
        self.executable = False
        self.unterminated = None
        self.prev_word = ""
        self.atomic = 0


def split(text: str, dialect: Dialect, *, limit: int | None = None) -> list[Segment]:
    """The statements of ``text`` in order; empty statements (``;;``) are dropped.

    With ``limit``, TooManyStatements is raised as soon as one more segment closes, so
    a file of a million statements is refused after scanning the first ``limit``.
    """
    builder = _Builder(text, limit)
    return _split_pg(builder) if dialect == "postgres" else _split_mysql(builder)


def _block_comment_end_pg(text: str, pos: int) -> tuple[int, bool]:
    """(end offset, closed) of a nested ``/* */`` comment starting at ``pos``.

    Unclosed comments run to the end of the text; ``closed`` is False for them even when
    the text happens to end with ``*/`` (``/* /* */``: the outer comment is still open).
    """
    depth, i, n = 0, pos, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i, True
        else:
            nxt = min((j for j in (text.find("/*", i), text.find("*/", i)) if j >= 0), default=-1)
            if nxt < 0:
                return n, False
            i = nxt
    return n, False


def _comment(b: _Builder, start: int, end: int) -> None:
    if b.first is None:
        b.comments.append(b.text[start:end])


def _word(b: _Builder, word: str, start: int, end: int) -> None:
    """Track BEGIN/CASE/LOOP/REPEAT ... END blocks for the nesting limit (not for splitting)."""
    b.token(start, end)
    low = word.lower()
    # PostgreSQL >= 14 SQL-standard bodies: `BEGIN ATOMIC ... END` holds `;` (as psql).
    opens_atomic = low == "atomic" and b.prev_word == "begin"
    if opens_atomic or (b.atomic and low in ("begin", "case") and b.prev_word != "end"):
        b.atomic += 1
    elif b.atomic and low == "end":
        b.atomic -= 1
    if low in _BLOCK_OPENERS and b.prev_word != "end":
        b.nest(blocks=1)
    elif low == "end":
        b.nest(blocks=-1)
    b.prev_word = low


# PostgreSQL scanner: one compiled alternation tried at each token start. Everything that
# cannot change a statement's boundary or depth (whitespace, ordinary words, operators,
# a `$` that opens no dollar quote) is consumed as one "run"; comments, quotes, dollar
# quotes, `;`, parentheses and the block keywords are tokens of their own. The run
# never starts or ends on whitespace, so a statement's first/last offsets are exact.
_WS = r"[ \t\n\r\f\v]"  # the same whitespace as _SPACE
_WORDCHAR = r"[A-Za-z0-9_$\x80-\U0010ffff]"
_KEYWORD = (
    r"(?:[Bb][Ee][Gg][Ii][Nn]|[Cc][Aa][Ss][Ee]|[Ll][Oo][Oo][Pp]|[Rr][Ee][Pp][Ee][Aa][Tt]"
    rf"|[Ee][Nn][Dd]|[Aa][Tt][Oo][Mm][Ii][Cc])(?!{_WORDCHAR})"
)
_TAG = r"(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?"
_PLAIN = (
    rf"(?:(?![Ee]')(?!{_KEYWORD})(?:{_WORD.pattern})"
    r"|[^ \t\n\r\f\v'\"$;()\-/A-Za-z_0-9\x80-\U0010ffff]"
    rf"|\$(?!{_TAG}\$)|-(?!-)|/(?!\*))"
)
_PG_TOKEN = re.compile(
    rf"(?P<space>{_WS}+)"
    r"|(?P<line>--[^\n]*)"
    r"|(?P<block>/\*)"
    r"|(?P<str>')"
    r"|(?P<estr>[Ee]')"
    r"|(?P<ident>\")"
    rf"|(?P<dollar>\${_TAG}\$)"
    r"|(?P<semi>;)"
    r"|(?P<open>\()"
    r"|(?P<close>\))"
    rf"|(?P<keyword>{_KEYWORD})"
    rf"|(?P<run>{_PLAIN}(?:{_WS}*+{_PLAIN})*+)"
)
_HAS_WORD = re.compile(r"[A-Za-z_0-9\x80-\U0010ffff]")


def _split_pg(b: _Builder) -> list[Segment]:
    text = b.text
    i, n = 0, len(text)
    match = _PG_TOKEN.match
    while i < n:
        m = match(text, i)
        if m is None:  # not reachable: every character starts one of the alternatives
            b.token(i, i + 1)
            i += 1
            continue
        kind, j = m.lastgroup, m.end()
        if kind == "run":
            if b.first is None:
                b.first = i
            b.last_end = j
            # Only "the previous word was BEGIN/END" matters to _word; a run holding
            # any word makes it some other word.
            if b.prev_word in ("begin", "end") and _HAS_WORD.search(text, i, j):
                b.prev_word = "?"
        elif kind == "space":
            pass
        elif kind == "open":
            b.token(i, j)
            b.nest(paren=1)
        elif kind == "close":
            b.token(i, j)
            b.nest(paren=-1)
        elif kind == "semi":
            if b.paren > 0 or b.atomic > 0:
                b.token(i, j)
            else:
                b.close()
        elif kind == "keyword":
            _word(b, m.group(), i, j)
        elif kind == "line":
            _comment(b, i, j)
        elif kind == "block":
            j, closed = _block_comment_end_pg(text, i)
            if not closed:
                b.unterminated = "comment"
            _comment(b, i, j)
        elif kind == "str":
            j = _quoted(b, _PG_STR, text, i, "string literal")
        elif kind == "estr":
            j = _quoted(b, _PG_ESTR, text, i, "string literal")
        elif kind == "ident":
            j = _quoted(b, _PG_IDENT, text, i, "quoted identifier")
        else:  # dollar
            tag = m.group()
            k = text.find(tag, j)
            if k < 0:
                b.unterminated = f"dollar quote {tag}"
                j = n
            else:
                j = k + len(tag)
            b.token(i, j)
        i = j
    b.close()
    return b.segments


def _quoted(b: _Builder, pattern: re.Pattern[str], text: str, i: int, what: str) -> int:
    m = pattern.match(text, i)
    if m is None:
        b.unterminated = what
        b.token(i, len(text))
        return len(text)
    b.token(i, m.end())
    return m.end()


def _split_mysql(b: _Builder) -> list[Segment]:
    text = b.text
    delimiter = ";"
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACES:
            m = _SPACE.match(text, i)
            i = m.end() if m else i + 1
        elif b.first is None and c in "Dd" and (m := _DELIMITER.match(text, i)):
            delimiter = m.group(1)
            b.comments = []
            i = m.end()
        elif text.startswith(delimiter, i):
            b.close()
            i += len(delimiter)
        elif c == "#" or (
            c == "-" and text.startswith("--", i) and (i + 2 >= n or text[i + 2] in " \t\r\n")
        ):
            j = text.find("\n", i)
            j = n if j < 0 else j
            _comment(b, i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                b.unterminated = "comment"
                j = n
            else:
                j += 2
            if text.startswith("/*!", i) or text.startswith("/*+", i):
                b.executable = b.executable or text.startswith("/*!", i)
                b.token(i, j)
            else:
                _comment(b, i, j)
            i = j
        elif c in _MY_STR:
            i = _quoted(b, _MY_STR[c], text, i, "quoted text")
        elif c == "(":
            b.token(i, i + 1)
            b.nest(paren=1)
            i += 1
        elif c == ")":
            b.token(i, i + 1)
            b.nest(paren=-1)
            i += 1
        elif m := _WORD.match(text, i):
            word = m.group(0)
            # A word may contain the delimiter (e.g. DELIMITER $$ then `END$$`).
            cut = word.find(delimiter) if delimiter != ";" else -1
            if cut > 0:
                word = word[:cut]
            _word(b, word, i, i + len(word))
            i += len(word)
        else:
            b.token(i, i + 1)
            i += 1
    b.close()
    return b.segments
