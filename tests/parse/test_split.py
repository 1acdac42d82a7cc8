"""Lexer-aware splitting: comments and quoted text never make or split statements."""

from __future__ import annotations

import pytest
from sqlgate.parse.split import split


@pytest.mark.parametrize(
    ("sql", "texts"),
    [
        ("SELECT 1; DROP TABLE t;", ["SELECT 1", "DROP TABLE t"]),
        ("-- a; b\nSELECT 1;", ["SELECT 1"]),
        ("/* a; /* nested; */ still; */ SELECT 1;", ["SELECT 1"]),
        ("SELECT 'a;b', 'it''s;';", ["SELECT 'a;b', 'it''s;'"]),
        ("SELECT E'x\\';y';", ["SELECT E'x\\';y'"]),
        ('SELECT "a;b" FROM t;', ['SELECT "a;b" FROM t']),
        ("SELECT $$ ; $$; SELECT $f$ $$ ; $f$;", ["SELECT $$ ; $$", "SELECT $f$ $$ ; $f$"]),
        ("SELECT $1; SELECT 2", ["SELECT $1", "SELECT 2"]),
        (";;  ;\n-- only comments\n", []),
        ("SELECT 1 -- trailing\n;", ["SELECT 1"]),
        (
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;"
            " SELECT 3;",
            [
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
                "SELECT 3",
            ],
        ),
    ],
)
def test_postgres_split(sql: str, texts: list[str]) -> None:
    assert [s.text for s in split(sql, "postgres")] == texts


def test_positions_on_one_line_and_across_lines() -> None:
    segs = split("SELECT 1; DROP TABLE t;\n\n  UPDATE t\n  SET a = 1;", "postgres")
    assert [(s.line, s.column, s.end_line) for s in segs] == [(1, 1, 1), (1, 11, 1), (3, 3, 4)]


def test_crlf_keeps_lines() -> None:
    segs = split("SELECT 1;\r\nSELECT\r\n 2;\r\n", "postgres")
    assert [(s.line, s.end_line) for s in segs] == [(1, 1), (2, 3)]
    assert segs[1].text == "SELECT\r\n 2"


def test_unterminated_dollar_quote_is_flagged() -> None:
    (seg,) = split("SELECT $x$ never closed; SELECT 2;", "postgres")
    assert seg.unterminated == "dollar quote $x$"


@pytest.mark.parametrize(
    ("sql", "texts"),
    [
        ("SELECT 'a;\\'b'; SELECT 2;", ["SELECT 'a;\\'b'", "SELECT 2"]),
        ('SELECT "x;y"; # c; d\nSELECT `a;b`;', ['SELECT "x;y"', "SELECT `a;b`"]),
        ("SELECT 1--x;\n;", ["SELECT 1--x"]),  # `--x` is not a MySQL comment without a space
        (
            "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 2;",
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2"],
        ),
        (
            "DELIMITER //\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW "
            "BEGIN SET NEW.a=1; END //\n"
            "DELIMITER ;",
            ["CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a=1; END"],
        ),
    ],
)
def test_mysql_split(sql: str, texts: list[str]) -> None:
    assert [s.text for s in split(sql, "mysql")] == texts


def test_mysql_executable_comment_is_content_and_flagged() -> None:
    (seg,) = split("/*!40101 SET NAMES utf8 */;", "mysql")
    assert seg.executable_comment and seg.text == "/*!40101 SET NAMES utf8 */"


def test_nesting_depth_counts_parentheses_and_blocks() -> None:
    (seg,) = split("SELECT ((((1))))", "postgres")
    assert seg.depth == 4
    (seg,) = split("DELIMITER $$\nCREATE PROCEDURE p() BEGIN BEGIN SELECT (1); END; END$$", "mysql")
    assert seg.depth == 3  # BEGIN, BEGIN, (1): p() is closed before BEGIN


def test_comments_before_statement_are_kept_for_directives() -> None:
    segs = split("SELECT 1; -- sqlgate:batch key=id\nUPDATE t SET a = 1;", "postgres")
    assert segs[1].comments_before == ("-- sqlgate:batch key=id",)


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_positions_counted_incrementally_match_a_recount(dialect: str) -> None:
    """Lines/columns are tracked as segments close; they must equal counting from 0."""
    parts = []
    for i in range(300):
        sep = ("\n" * (i % 3)) + (" " * (i % 5))
        body = f"SELECT {i}" if i % 4 else f"/* c{i}\n */ SELECT '{i}\n'"
        parts.append(sep + body + ";")
    text = "".join(parts)
    segments = split(text, dialect)  # type: ignore[arg-type]
    assert len(segments) == 300
    for seg in segments:
        assert seg.line == text.count("\n", 0, seg.start) + 1
        assert seg.column == seg.start - (text.rfind("\n", 0, seg.start) + 1) + 1
        assert seg.end_line == seg.line + text.count("\n", seg.start, seg.end)
