"""Unit tests of the stdlib PostgreSQL splitter the runner executes from."""

from __future__ import annotations

import pytest
from sqlgate_client.sqlsplit import BatchDirective, SplitError, split


def texts(src: str) -> list[str]:
    return [s.text for s in split(src)]


def test_plain_statements_and_lines() -> None:
    stmts = split("CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1);\nSELECT 1")
    assert [s.text for s in stmts] == [
        "CREATE TABLE a (id int)",
        "INSERT INTO a VALUES (1)",
        "SELECT 1",
    ]
    assert [s.line for s in stmts] == [1, 3, 4]
    assert [s.index for s in stmts] == [0, 1, 2]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", "SELECT 2"]),
        ("SELECT 'it''s;'; SELECT 2", ["SELECT 'it''s;'", "SELECT 2"]),
        ("SELECT E'it\\'s;'; SELECT 2", ["SELECT E'it\\'s;'", "SELECT 2"]),
        ("SELECT '\\'; SELECT 2", ["SELECT '\\'", "SELECT 2"]),  # standard strings: no escape
        ('SELECT 1 AS "a;""b"; SELECT 2', ['SELECT 1 AS "a;""b"', "SELECT 2"]),
        ("SELECT $$a;b$$; SELECT 2", ["SELECT $$a;b$$", "SELECT 2"]),
        ("SELECT $f$ $$; $f$; SELECT 2", ["SELECT $f$ $$; $f$", "SELECT 2"]),
        ("SELECT 1 -- c;\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
        ("SELECT /* a; /* b; */ c; */ 1; SELECT 2", ["SELECT /* a; /* b; */ c; */ 1", "SELECT 2"]),
        ("PREPARE p AS SELECT $1; SELECT 2", ["PREPARE p AS SELECT $1", "SELECT 2"]),
        ("SELECT a$b FROM t; SELECT 2", ["SELECT a$b FROM t", "SELECT 2"]),
        ("SELECT U&'d\\0061t;a'; SELECT 2", ["SELECT U&'d\\0061t;a'", "SELECT 2"]),
        (
            "CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2); SELECT 3",
            ["CREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 2)", "SELECT 3"],
        ),
        (";;SELECT 1;;", ["SELECT 1"]),
        ("-- only a comment\n", []),
    ],
)
def test_lexical_structures_never_split(src: str, expected: list[str]) -> None:
    assert texts(src) == expected


def test_function_bodies() -> None:
    src = (
        "CREATE OR REPLACE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\n  NEW.x := 1;\n  RETURN NEW;\nEND;\n$body$;\n"
        "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC\n"
        "  INSERT INTO t VALUES (CASE WHEN true THEN 1 END);\n  SELECT 1;\nEND;\n"
        "BEGIN;\nCOMMIT;\n"
    )
    stmts = split(src)
    assert len(stmts) == 4
    assert stmts[1].text.startswith("CREATE PROCEDURE") and stmts[1].text.endswith("END")
    assert [s.text for s in stmts[2:]] == ["BEGIN", "COMMIT"]
    assert [s.line for s in stmts] == [1, 7, 11, 12]


def test_batch_directive_attaches_to_next_statement() -> None:
    stmts = split(
        "CREATE TABLE t (id int);\n"
        "-- an ordinary comment\n"
        "-- sqlgate:batch key=id size=500 pause=2s\n"
        "UPDATE t SET id = id;\n"
        "DELETE FROM t;\n"
    )
    assert stmts[0].batch is None
    assert stmts[1].batch == BatchDirective(key="id", size=500, pause_ms=2000)
    assert stmts[2].batch is None
    assert split("-- sqlgate:batch key=id\nDELETE FROM t")[0].batch == BatchDirective("id", 1000, 0)


@pytest.mark.parametrize(
    "src",
    [
        "SELECT 'open",
        'SELECT "open',
        "SELECT $x$ open",
        "SELECT /* open",
        "SELECT E'\\'",
        "SELECT (1;",
        "SELECT 1)",
        "-- sqlgate:batch size=10\nDELETE FROM t",
        "-- sqlgate:batch key=id size=0\nDELETE FROM t",
        "-- sqlgate:batch key=id pause=soon\nDELETE FROM t",
        "-- sqlgate:batch key=id colour=red\nDELETE FROM t",
        "-- sqlgate:batch key=id\n",
        "DELETE FROM t\n-- sqlgate:batch key=id\nWHERE true",
    ],
)
def test_what_cannot_be_delimited_is_refused(src: str) -> None:
    with pytest.raises(SplitError):
        split(src)


def test_corpus_files_split_without_errors_and_keep_their_bytes() -> None:
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "postgres"
    if not corpus.is_dir():
        pytest.skip("corpus not present")
    files = sorted(corpus.rglob("*.sql"))[:400]
    refused = 0
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        try:
            stmts = split(text)
        except SplitError:
            refused += 1
            continue
        for s in stmts:
            assert text.count(s.text) >= 1  # exact source text, never rewritten
    assert refused <= len(files) // 20
