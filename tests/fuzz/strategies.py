"""Hypothesis strategies for SQL-ish migration bytes (both dialects).

Fragments are chosen to stress the lexers: every quote kind (closed and not), dollar
quotes with tags, nested and unterminated comments, semicolons, MySQL DELIMITER lines
and executable comments, template placeholders, BOM/CRLF/NUL and invalid UTF-8, deep
parentheses and BEGIN ... END blocks.
"""

from __future__ import annotations

from hypothesis import strategies as st

KEYWORDS = (
    "SELECT", "DROP", "TABLE", "CREATE", "ALTER", "ADD", "COLUMN", "INDEX", "CONCURRENTLY",
    "UPDATE", "SET", "DELETE", "FROM", "WHERE", "INSERT", "INTO", "VALUES", "BEGIN", "END",
    "ATOMIC", "COMMIT", "ROLLBACK", "FUNCTION", "PROCEDURE", "RETURNS", "LANGUAGE", "AS",
    "DO", "CASE", "WHEN", "THEN", "LOOP", "REPEAT", "GRANT", "ON", "TO", "TRUNCATE", "COPY",
    "int", "text", "NOT", "NULL", "DEFAULT", "TRIGGER", "IF", "EXISTS", "DELIMITER",
    "E", "U&", "B", "X", "N",
)  # fmt: skip
PUNCT = (
    ";", ";", ";", "(", ")", ",", ".", "=", "*", "+", "-", "/", "$", "$1", "::", "\\", "@",
    "!", "#", "`", "&", "|", "{", "}", ":",
)  # fmt: skip
QUOTED = (
    "'x'", "'it''s'", "'a;b'", "'back\\'slash'", "E'a\\'b'", "E'x\\\\'", "\"Id\"", "\"a\"\"b\"",
    "\"x;y\"", "`bt`", "`a``b`", "$$ ; $$", "$tag$ x; $tag$", "$a$ $b$ ; $b$ $a$", "$$",
    "$tag$", "$1", "'", "\"", "`", "E'", "U&'d\\0061t'", "B'101'", "X'ff'",
    "'multi\nline'", "$f$\nBEGIN; END;\n$f$",
)  # fmt: skip
COMMENTS = (
    "-- c\n", "--\n", "-- ; DROP TABLE x;\n", "# h\n", "/* c */", "/* /* nested */ */",
    "/* a; b */", "/*", "*/", "/*! 50001 DROP TABLE t */", "/*+ hint */", "--", "-- x",
    "/* /* */", "-- sqlgate:batch key=id size=10\n", "-- sqlgate:ignore r -- why\n",
)  # fmt: skip
SPECIAL = (
    " ", " ", "\n", "\r\n", "\t", "\x0c", "\u00a0", "\u200b", "\ufeff", "é", "Ω", "表",
    "\nDELIMITER $$\n", "\nDELIMITER //\n", "\nDELIMITER ;\n", "$$", "//", "DELIMITER ;;\n",
    "${schema}", "{{ .Var }}", "{$NS}", "${", "{{", "\x00",
)  # fmt: skip

IDENT = st.from_regex(r"[a-z_][a-z0-9_$]{0,6}", fullmatch=True)
NUMBER = st.from_regex(r"[0-9]{1,4}(\.[0-9]{0,2})?", fullmatch=True)


def _deep(n: int) -> str:
    return "(" * n + "1" + ")" * n


FRAGMENT = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(PUNCT),
    st.sampled_from(QUOTED),
    st.sampled_from(COMMENTS),
    st.sampled_from(SPECIAL),
    IDENT,
    NUMBER,
    st.integers(1, 400).map(_deep),
    st.integers(1, 300).map(lambda n: "BEGIN " * n + "END; " * n),
    st.text(max_size=3),
)
SEPARATOR = st.sampled_from((" ", " ", "", "\n", "\t"))


@st.composite
def sqlish_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(FRAGMENT, SEPARATOR), max_size=40))
    return "".join(f + s for f, s in parts)


@st.composite
def sqlish_bytes(draw: st.DrawFn) -> bytes:
    """Mostly valid UTF-8 text, sometimes with a BOM, CRLF or raw invalid bytes spliced in."""
    data = draw(sqlish_text()).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0 and data:
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf")))
        data = data[:at] + junk + data[at:]
    return data


def mutate(data: bytes, ops: list[tuple[int, int, bytes]]) -> bytes:
    """Apply (kind, position, bytes) edits: 0 insert, 1 delete a span, 2 overwrite."""
    out = bytearray(data)
    for kind, pos, chunk in ops:
        at = pos % (len(out) + 1)
        if kind == 0:
            out[at:at] = chunk
        elif kind == 1:
            del out[at : at + 1 + len(chunk)]
        else:
            out[at : at + len(chunk)] = chunk
    return bytes(out)


MUTATION = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 1 << 20),
        st.one_of(
            st.sampled_from(QUOTED + COMMENTS + PUNCT + SPECIAL).map(lambda s: s.encode()),
            st.binary(max_size=4),
        ),
    ),
    min_size=1,
    max_size=6,
)
