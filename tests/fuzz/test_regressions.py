"""Inputs fuzzing found (or the brief named) that once broke the contract; each stays fixed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlgate.errors import InputError, LimitExceeded
from sqlgate.parse.split import split
from sqlgate_client.sqlsplit import split as runner_split

from .invariants import check_no_drop, parse_or_refuse

DIALECTS = pytest.mark.parametrize("dialect", ["postgres", "mysql"])
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
ARRAY = "ARRAY" + "[" * 3000 + "1" + "]" * 3000


def _statements(sql: str | bytes, dialect: str = "postgres") -> list[dict[str, object]]:
    content = sql.encode() if isinstance(sql, str) else sql
    result = parse_or_refuse(content, dialect)
    assert not isinstance(result, InputError), result
    check_no_drop(content, dialect, result)
    return [s.to_json() for s in result.statements]


@DIALECTS
def test_two_statements_on_one_line(dialect: str) -> None:
    assert [s["kind"] for s in _statements("SELECT 1; DROP TABLE t;", dialect)] == [
        "select",
        "drop_table",
    ]


@DIALECTS
def test_no_break_space_is_not_whitespace(dialect: str) -> None:
    # Found on the corpus (dhis2 V2_36_20): a trailing U+00A0 vanished as "whitespace" on
    # the server while the runner (like PostgreSQL's lexer) sees an identifier character.
    got = _statements("DROP TABLE t;\u00a0\n", dialect)
    assert [s["text"] for s in got] == ["DROP TABLE t", "\u00a0"]
    assert got[1]["kind"] == "unknown"
    assert [s.text for s in split("SELECT 1;\u2003", dialect)] == ["SELECT 1", "\u2003"]  # type: ignore[arg-type]


def test_no_break_space_counts_like_the_runner() -> None:
    text = "SELECT 1;\u00a0DROP TABLE t;\n\u00a0"
    assert [s.text for s in split(text, "postgres")] == [s.text for s in runner_split(text)]


def test_nested_comment_left_open_is_unterminated() -> None:
    # `/* /* */` ends with `*/` but the outer comment is still open.
    got = _statements("SELECT 1 /* /* */")
    assert got[0]["kind"] == "unknown" and "unterminated comment" in str(got[0]["reason"])
    assert _statements("SELECT 1 /* /* */ */")[0]["kind"] == "select"


@pytest.mark.parametrize(
    "sql",
    [
        f"CREATE TABLE t (a int[] DEFAULT {ARRAY});",
        f"ALTER TABLE t ADD COLUMN a int[] DEFAULT {ARRAY};",
        f"ALTER TABLE t ALTER COLUMN a SET DEFAULT {ARRAY};",
        f"CREATE INDEX i ON t ((a = {ARRAY}));",
        f"ALTER TABLE t ALTER COLUMN a TYPE int[] USING {ARRAY};",
        "CREATE TABLE t (a text DEFAULT " + " || ".join(["'a'"] * 20000) + ");",
    ],
)
def test_deep_trees_the_model_cannot_walk_are_unknown(sql: str) -> None:
    # pglast accepted these; deparsing/walking them raised RecursionError out of the parse.
    for dialect in ("postgres", "mysql"):
        got = _statements(sql, dialect)
        assert [s["kind"] for s in got] == ["unknown"], got
        assert "deeply nested" in str(got[0]["reason"]) or dialect == "mysql"


def test_mysql_tree_sqlgate_cannot_model_is_unknown() -> None:
    got = _statements("CREATE TABLE t (a int DEFAULT (" + "a[1]" * 1 + "1+" * 20000 + "1));")
    assert got[0]["kind"] == "unknown"


def test_sqlglot_type_error_in_the_crosscheck_is_no_crash() -> None:
    # atheris: sqlglot(c) raised TypeError (DataType expected, got Block) on this column type.
    sql = (
        b"-- CreateEnum\nCREATE TYPE \"eVersion\" AS EN!M 'V2');\n\n-- AlterTable\nALTER TABLE\n"
        b'  "TaskQueue"\nADD\n  COLUMN "orderableName" TEXT,\nADD\n  COLUMN "veion" '
        b"\"char*TaskQ;eueVersion\" NOT NULL DEFAULT 'V1';"
    )
    for dialect in ("postgres", "mysql"):
        kinds = [s["kind"] for s in _statements(sql, dialect)]
        assert kinds == ["unknown", "add_column", "add_column"], (dialect, kinds)


@DIALECTS
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + "(" * 100_000 + "1" + ")" * 100_000 + ";",
        "CREATE PROCEDURE p() BEGIN " + "BEGIN " * 5000 + "END; " * 5001 + ";",
        "SELECT " + "CASE WHEN a THEN " * 1000 + "1" + " END" * 1000 + ";",
    ],
)
def test_nesting_limit_refuses_before_any_parser_recurses(dialect: str, sql: str) -> None:
    refused = parse_or_refuse(sql.encode(), dialect)
    assert isinstance(refused, LimitExceeded), refused
    assert re.match(r"^fuzz/m\.sql: line 1: nesting depth \d+ exceeds 200$", str(refused))


def test_runner_and_server_count_postgres_corpus_alike() -> None:
    files = sorted((CORPUS / "postgres").glob("*/*.sql")) if CORPUS.is_dir() else []
    if not files:
        pytest.skip(f"no corpus at {CORPUS}")
    differ = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
            expected = [s.text for s in runner_split(text)]
        except (UnicodeDecodeError, ValueError):
            continue
        if [s.text for s in split(text, "postgres")] != expected:
            differ.append(path.name)
    assert differ == []
