"""A stdlib-only, lexer-aware PostgreSQL statement splitter for the thin runner.

The runner must apply exactly the bytes that were reviewed without importing a SQL
parser, so it splits on the lexical structure psql itself uses: a ``;`` ends a
statement only outside comments (``--``, nested ``/* */``), quoted strings
(``'...'``, ``E'...'`` with backslash escapes), dollar quotes (``$tag$...$tag$``),
quoted identifiers (``"..."``), parentheses and ``BEGIN ATOMIC ... END`` bodies.
Each statement keeps its 1-based line and any ``-- sqlgate:batch`` directive written
in the comments right before it. Unterminated quotes or comments raise
:class:`SplitError`: the runner refuses what it cannot delimit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "BatchDirective",
    "SplitError",
    "Statement",
    "Token",
    "TokenKind",
    "split",
    "tokenize",
]


class SplitError(ValueError):
    """The text cannot be split safely (unterminated quote/comment, bad directive)."""

    def __init__(self, message: str, *, line: int) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


class TokenKind(Enum):
    WORD = "word"  # keyword or unquoted identifier
    QUOTED_IDENT = "quoted_ident"
    STRING = "string"  # '...', E'...', B'...', X'...', U&'...', $$...$$
    NUMBER = "number"
    PARAM = "param"  # $1
    PUNCT = "punct"  # operators, parentheses, commas, ...
    SEMICOLON = "semicolon"
    COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int  # offset in the source
    end: int
    line: int

    @property
    def upper(self) -> str:
        """The word upper-cased (keywords compare case-insensitively)."""
        return self.text.upper()


@dataclass(frozen=True, slots=True)
class BatchDirective:
    """``-- sqlgate:batch key=id size=1000 pause=50ms``: run an UPDATE/DELETE in key chunks."""

    key: str
    size: int
    pause_ms: int


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement: its exact text (no trailing ``;``), 0-based index and first line."""

    index: int
    text: str
    line: int
    batch: BatchDirective | None
    tokens: tuple[Token, ...]  # non-comment tokens of the statement

    def words(self) -> list[str]:
        """Upper-cased leading words, for classification (``CREATE INDEX CONCURRENTLY``)."""
        return [t.upper for t in self.tokens if t.kind is TokenKind.WORD]


_IDENT_START = re.compile(r"[A-Za-z_\x80-\U0010ffff]")
_IDENT_CHARS = re.compile(r"[A-Za-z0-9_$\x80-\U0010ffff]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")
_NUMBER = re.compile(r"(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PARAM = re.compile(r"\$\d+")
_OPERATOR_CHARS = "+-*/<>=~!@#%^&|`?"


def _quoted(src: str, pos: int, quote: str, line: int, *, backslash: bool) -> int:
    """End offset (exclusive) of a quoted run starting at ``pos`` (the opening quote)."""
    i = pos + 1
    n = len(src)
    while i < n:
        c = src[i]
        if backslash and c == "\\":
            i += 2
            continue
        if c == quote:
            if i + 1 < n and src[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    what = "quoted identifier" if quote == '"' else "string literal"
    raise SplitError(f"unterminated {what}", line=line)


def tokenize(src: str) -> list[Token]:
    """Lex ``src`` into tokens (whitespace dropped, comments kept)."""
    tokens: list[Token] = []
    i = 0
    n = len(src)
    line = 1

    def add(kind: TokenKind, start: int, end: int) -> None:
        nonlocal line
        tokens.append(Token(kind, src[start:end], start, end, line))
        line += src.count("\n", start, end)

    while i < n:
        c = src[i]
        if c in " \t\r\f\v":
            i += 1
        elif c == "\n":
            line += 1
            i += 1
        elif src.startswith("--", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            add(TokenKind.COMMENT, i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while depth and j < n:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise SplitError("unterminated block comment", line=line)
            add(TokenKind.COMMENT, i, j)
            i = j
        elif c == "'":
            j = _quoted(src, i, "'", line, backslash=False)
            add(TokenKind.STRING, i, j)
            i = j
        elif c == '"':
            j = _quoted(src, i, '"', line, backslash=False)
            add(TokenKind.QUOTED_IDENT, i, j)
            i = j
        elif c in "eE" and src.startswith("'", i + 1):
            j = _quoted(src, i + 1, "'", line, backslash=True)
            add(TokenKind.STRING, i, j)
            i = j
        elif c in "bBxXnN" and src.startswith("'", i + 1):
            j = _quoted(src, i + 1, "'", line, backslash=False)
            add(TokenKind.STRING, i, j)
            i = j
        elif c in "uU" and src.startswith("&'", i + 1):
            j = _quoted(src, i + 2, "'", line, backslash=False)
            add(TokenKind.STRING, i, j)
            i = j
        elif c in "uU" and src.startswith('&"', i + 1):
            j = _quoted(src, i + 2, '"', line, backslash=False)
            add(TokenKind.QUOTED_IDENT, i, j)
            i = j
        elif c == "$":
            m = _DOLLAR_TAG.match(src, i)
            p = _PARAM.match(src, i)
            if m:
                tag = m.group(0)
                close = src.find(tag, m.end())
                if close < 0:
                    raise SplitError(f"unterminated dollar-quoted string {tag}", line=line)
                add(TokenKind.STRING, i, close + len(tag))
                i = close + len(tag)
            elif p:
                add(TokenKind.PARAM, i, p.end())
                i = p.end()
            else:
                add(TokenKind.PUNCT, i, i + 1)
                i += 1
        elif _IDENT_START.match(c):
            m = _IDENT_CHARS.match(src, i + 1)
            end = m.end() if m else i + 1
            add(TokenKind.WORD, i, end)
            i = end
        elif c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            m = _NUMBER.match(src, i)
            end = m.end() if m else i + 1
            add(TokenKind.NUMBER, i, end)
            i = end
        elif c == ";":
            add(TokenKind.SEMICOLON, i, i + 1)
            i += 1
        elif c in _OPERATOR_CHARS:
            j = i
            # an operator run stops before a comment start, as in PostgreSQL's lexer
            while j < n and src[j] in _OPERATOR_CHARS and not src.startswith(("--", "/*"), j):
                j += 1
            j = max(j, i + 1)
            add(TokenKind.PUNCT, i, j)
            i = j
        else:
            add(TokenKind.PUNCT, i, i + 1)
            i += 1
    return tokens


_DIRECTIVE = re.compile(r"^--\s*sqlgate:batch\b(.*)$")
_DURATION = re.compile(r"^(\d+)(ms|s)?$")


def parse_batch_directive(comment: str, line: int) -> BatchDirective | None:
    """Parse a ``-- sqlgate:batch`` comment; None for other comments, error if malformed."""
    m = _DIRECTIVE.match(comment.strip())
    if not m:
        return None
    fields: dict[str, str] = {}
    for part in m.group(1).split():
        name, sep, value = part.partition("=")
        if not sep or not value or name not in {"key", "size", "pause"} or name in fields:
            raise SplitError(f"malformed sqlgate:batch directive field {part!r}", line=line)
        fields[name] = value
    key = fields.get("key")
    if key is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        raise SplitError("sqlgate:batch needs key=<column> (a plain column name)", line=line)
    size_text = fields.get("size", "1000")
    if not size_text.isdigit() or not 0 < int(size_text) <= 10_000_000:
        raise SplitError(f"sqlgate:batch size must be a positive integer: {size_text}", line=line)
    pause = _DURATION.match(fields.get("pause", "0ms"))
    if not pause:
        raise SplitError("sqlgate:batch pause must look like 50ms or 1s", line=line)
    pause_ms = int(pause.group(1)) * (1000 if pause.group(2) == "s" else 1)
    return BatchDirective(key=key.lower(), size=int(size_text), pause_ms=pause_ms)


def _opens_routine_body(words: list[str]) -> bool:
    """CREATE [OR REPLACE] FUNCTION/PROCEDURE: BEGIN ATOMIC ... END may hold ``;``."""
    if words[:1] != ["CREATE"]:
        return False
    rest = words[3:4] if words[1:3] == ["OR", "REPLACE"] else words[1:2]
    return rest in (["FUNCTION"], ["PROCEDURE"])


def split(src: str) -> list[Statement]:
    """Split PostgreSQL source into statements, keeping text, line and batch directive."""
    out: list[Statement] = []
    current: list[Token] = []
    directive: BatchDirective | None = None
    depth = 0  # parentheses
    begin_depth = 0  # BEGIN/CASE ... END inside a routine body
    words: list[str] = []

    def flush(line: int) -> None:
        nonlocal current, directive, depth, begin_depth, words
        if depth:
            raise SplitError("unbalanced parentheses before ';'", line=line)
        if current:
            text = src[current[0].start : current[-1].end]
            out.append(Statement(len(out), text, current[0].line, directive, tuple(current)))
        elif directive is not None:
            raise SplitError("sqlgate:batch directive is not followed by a statement", line=line)
        current, directive, depth, begin_depth, words = [], None, 0, 0, []

    for tok in tokenize(src):
        if tok.kind is TokenKind.COMMENT:
            found = parse_batch_directive(tok.text, tok.line) if tok.text.startswith("--") else None
            if found is not None:
                if current:
                    raise SplitError("sqlgate:batch directive inside a statement", line=tok.line)
                if directive is not None:
                    raise SplitError(
                        "two sqlgate:batch directives for one statement", line=tok.line
                    )
                directive = found
            continue
        if tok.kind is TokenKind.SEMICOLON and depth == 0 and begin_depth == 0:
            flush(tok.line)
            continue
        current.append(tok)
        if tok.kind is TokenKind.PUNCT:
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
                if depth < 0:
                    raise SplitError("unbalanced ')'", line=tok.line)
        elif tok.kind is TokenKind.WORD:
            words.append(tok.upper)
            if len(words) > 1 and _opens_routine_body(words):
                if tok.upper in {"BEGIN", "CASE"}:
                    begin_depth += 1
                elif tok.upper == "END" and begin_depth:
                    begin_depth -= 1
    if begin_depth:
        raise SplitError("unterminated BEGIN ... END routine body", line=current[0].line)
    flush(current[-1].line if current else src.count("\n") + 1)
    return out
