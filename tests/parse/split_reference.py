"""The per-character PostgreSQL splitter that ``split.py``'s regex scanner replaced.

Kept only as a test oracle: the scanner must give exactly its segments (text, offsets,
line/column, comments, depth, flags) on any input. Not used by sqlgate itself. It follows
the splitter's current rules (ASCII-only whitespace, nested-comment closing), not its
historical bugs.
"""

from __future__ import annotations

from sqlgate.parse.split import (
    _DOLLAR,
    _PG_ESTR,
    _PG_IDENT,
    _PG_STR,
    _SPACE,
    _SPACES,
    _WORD,
    Segment,
    _block_comment_end_pg,
    _Builder,
    _comment,
    _quoted,
    _word,
)


def split_pg_reference(text: str) -> list[Segment]:
    b = _Builder(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACES:
            m = _SPACE.match(text, i)
            i = m.end() if m else i + 1
        elif c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            _comment(b, i, j)
            i = j
        elif c == "/" and text.startswith("/*", i):
            j, closed = _block_comment_end_pg(text, i)
            if not closed:
                b.unterminated = "comment"
            _comment(b, i, j)
            i = j
        elif c == "'":
            i = _quoted(b, _PG_STR, text, i, "string literal")
        elif c in "Ee" and text.startswith("'", i + 1):
            i = _quoted(b, _PG_ESTR, text, i, "string literal")
        elif c == '"':
            i = _quoted(b, _PG_IDENT, text, i, "quoted identifier")
        elif c == "$" and (m := _DOLLAR.match(text, i)):
            tag = m.group(0)
            j = text.find(tag, m.end())
            if j < 0:
                b.unterminated = f"dollar quote {tag}"
                j = n
            else:
                j += len(tag)
            b.token(i, j)
            i = j
        elif c == ";":
            if b.paren > 0 or b.atomic > 0:
                b.token(i, i + 1)
            else:
                b.close()
            i += 1
        elif c == "(":
            b.token(i, i + 1)
            b.nest(paren=1)
            i += 1
        elif c == ")":
            b.token(i, i + 1)
            b.nest(paren=-1)
            i += 1
        elif m := _WORD.match(text, i):
            _word(b, m.group(0), i, m.end())
            i = m.end()
        else:
            b.token(i, i + 1)
            i += 1
    b.close()
    return b.segments
