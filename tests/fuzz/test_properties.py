"""Property tests: any bytes either parse (nothing dropped) or are refused naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlgate.errors import InputError
from sqlgate.parse.placeholders import names
from sqlgate.parse.split import split
from sqlgate_client.sqlsplit import SplitError
from sqlgate_client.sqlsplit import split as runner_split

from .invariants import check_no_drop, parse_or_refuse
from .strategies import MUTATION, mutate, sqlish_bytes, sqlish_text

DIALECTS = pytest.mark.parametrize("dialect", ["postgres", "mysql"])
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _holds(content: bytes, dialect: str, variables: dict[str, str] | None = None) -> None:
    result = parse_or_refuse(content, dialect, variables=variables)
    if not isinstance(result, InputError):
        check_no_drop(content, dialect, result, variables)


@DIALECTS
@given(data=sqlish_bytes())
def test_sqlish_bytes_parse_or_refuse(dialect: str, data: bytes) -> None:
    _holds(data, dialect)


@DIALECTS
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_refuse(dialect: str, data: bytes) -> None:
    _holds(data, dialect)


@DIALECTS
@given(text=sqlish_text(), value=st.sampled_from(["app", "a;b", "'", "x\ny", "$$", ""]))
def test_placeholders_with_values_keep_the_invariant(dialect: str, text: str, value: str) -> None:
    text = text.replace("\x00", "")
    variables = {n: value for n in names(text)}
    _holds(text.encode("utf-8", "surrogatepass"), dialect, variables)


@given(
    text=st.lists(
        st.sampled_from(
            ["-- x;\n", "/* a; b */", "/* /* ; */ */", " ", "\n", ";", "\r\n", "-- DROP TABLE t;\n"]
        ),
        max_size=20,
    )
)
def test_comments_and_separators_alone_are_no_statement(text: list[str]) -> None:
    for dialect in ("postgres", "mysql"):
        parts = text if dialect == "postgres" else [t for t in text if "/* /*" not in t]
        result = parse_or_refuse("".join(parts).encode(), dialect)  # MySQL comments do not nest
        assert not isinstance(result, InputError) and result.statement_count == 0


@DIALECTS
@given(
    literal=st.sampled_from(
        [
            "'; DROP TABLE t; '",
            "'a'';DROP TABLE t;--'",
            "$$; DROP TABLE t;$$",
            "$x$ ;DROP TABLE t; $x$",
            '"; DROP TABLE t;"',
        ]
    )
)
def test_string_literals_never_produce_statements(dialect: str, literal: str) -> None:
    if dialect == "mysql" and literal.startswith("$"):
        literal = literal.replace("$x$", "'").replace("$$", "'")
    result = parse_or_refuse(f"SELECT {literal};".encode(), dialect)
    assert not isinstance(result, InputError) and result.statement_count == 1


@given(text=sqlish_text())
def test_server_and_runner_split_postgres_alike(text: str) -> None:
    text = text.replace("\x00", "")
    try:
        expected = [s.text for s in runner_split(text)]
    except SplitError:
        return  # the runner refuses to delimit it; the server marks it unknown (see below)
    assert [s.text for s in split(text, "postgres")] == expected


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    files = sorted(p for p in CORPUS.glob("*/*/*.sql") if p.stat().st_size <= 8192)
    return files[:: max(1, len(files) // 200)]


CORPUS_FILES = _corpus_files()


@pytest.mark.skipif(not CORPUS_FILES, reason=f"no corpus at {CORPUS}")
@given(index=st.integers(0, max(0, len(CORPUS_FILES) - 1)), ops=MUTATION)
def test_mutated_corpus_files_parse_or_refuse(
    index: int, ops: list[tuple[int, int, bytes]]
) -> None:
    path = CORPUS_FILES[index]
    dialect = "mysql" if path.parts[-3] == "mysql" else "postgres"
    _holds(mutate(path.read_bytes(), ops), dialect)
