"""The regex-driven PostgreSQL scanner gives exactly the per-character splitter's segments."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlgate.parse.split import split

from .split_reference import split_pg_reference

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "postgres"

# Fragments chosen to hit every scanner branch and their edges: keywords next to `$`,
# E-strings, nested and unterminated comments, dollar tags vs `$1`, BEGIN ATOMIC,
# non-ASCII words and whitespace (U+00A0 inside a word, U+2028 between tokens).
_PIECES = [
    "SELECT", "begin", "BEGIN", "atomic", "ATOMIC", "end", "END", "case", "Loop", "repeat",
    "endx", "end$", "t.end", "1end", "e", "E", "x", " ", "\n", "\t", "\u00a0", "\u2028",
    ";", "(", ")", "'", "''", "E'", "e'", "\\'", "\\", '"', '""', "$", "$$", "$a$", "$1",
    "$é$", "--", "-", "/*", "*/", "/", "*", "é", "ſ", "K", ",", ".", "::", "1.5", "0x1",
    "'a;b'", "$$;$$", "/* ; */", "-- ;\n", "İ", "\x00", "\x1c",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=40))
@settings(max_examples=3000, deadline=None)
def test_scanner_matches_reference_on_fragments(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert split(text, "postgres") == split_pg_reference(text)


@given(st.text(alphabet="abEe$;()'\"-/*\\ \n\u00a0é_1.", max_size=60))
@settings(max_examples=3000, deadline=None)
def test_scanner_matches_reference_on_characters(text: str) -> None:
    assert split(text, "postgres") == split_pg_reference(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "SELECT 1",
        "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3;",
        "DO $$ BEGIN CASE WHEN true THEN NULL; END CASE; END $$; SELECT 1",
        "SELECT $1; SELECT $x$ ; $x$; SELECT E'\\'';",
        "/* a /* b */ c */ SELECT 1; /* open",
        "SELECT ((1)); )) SELECT (",
        "SELECT end\u00a0begin; end (case); begin , end , case;",
    ],
)
def test_scanner_matches_reference_on_edges(text: str) -> None:
    assert split(text, "postgres") == split_pg_reference(text)


def test_scanner_matches_reference_on_the_corpus() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []
    if not files:
        pytest.skip("corpus not available")
    checked = 0
    for p in files:
        try:
            text = p.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert split(text, "postgres") == split_pg_reference(text), p
        checked += 1
    assert checked > 1000
