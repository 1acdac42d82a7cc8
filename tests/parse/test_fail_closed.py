"""Unknown, disagreement and input-error paths: never dropped, never guessed."""
# ruff: noqa: E501 - case tables read best one case per line

from __future__ import annotations

import pytest
from sqlgate.errors import EncodingError, LimitExceeded, PlaceholderError
from sqlgate.model import Update
from sqlgate.parse import Limits, SourceFile, parse_migrations
from sqlgate.parse.crosscheck import disagreement

from .helpers import kinds, one, parse


def test_syntax_error_is_unknown_and_neighbours_still_parse() -> None:
    r = parse("DROP TABLE a;\nselec 1;\nDROP TABLE b;")
    assert kinds(r.statements) == ["drop_table", "unknown", "drop_table"]
    bad = r.statements[1].to_json()
    assert bad["opaque"] and "rejects" in bad["reason"] and "selec" in bad["detail"]


def test_unmodelled_statement_type_is_unknown() -> None:
    got = one("CREATE STATISTICS s ON a, b FROM t")
    assert got["kind"] == "unknown" and "CreateStatsStmt" in got["reason"]


def test_unterminated_string_is_unknown() -> None:
    got = one("SELECT 'never closed; DROP TABLE t;")
    assert got["kind"] == "unknown" and "unterminated" in got["reason"]


def test_atomic_body_boundaries_agree_with_postgres() -> None:
    r = parse("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END; SELECT 2;")
    assert kinds(r.statements) == ["create_function", "select"]


def _stmt(kind_cls: type[Update], text: str) -> Update:
    return kind_cls(file="f", line=1, col=1, end_line=1, text=text, table="t", has_where=False)


def test_crosscheck_flags_a_kind_sqlglot_contradicts() -> None:
    assert disagreement(_stmt(Update, "UPDATE t SET a = 1")) is None
    why = disagreement(_stmt(Update, "DROP TABLE t"))
    assert why is not None and "drop:table" in why


def test_crosscheck_does_not_override_pglast_when_sqlglot_is_opaque() -> None:
    # sqlglot keeps ALTER TYPE ... ADD VALUE as a Command; pglast's model stands.
    assert one("ALTER TYPE mood ADD VALUE 'x'")["kind"] == "alter_type_add_value"


@pytest.mark.parametrize("content", [b"SELECT '\xff';", b"\xef\xbb\xbfSELECT '\xc3';"])
def test_non_utf8_is_refused_naming_the_file(content: bytes) -> None:
    with pytest.raises(EncodingError, match=r"^bad\.sql: line 1"):
        parse_migrations([SourceFile("bad.sql", content)], "postgres")


def test_bom_is_stripped_and_positions_unchanged() -> None:
    r = parse_migrations([SourceFile("b.sql", b"\xef\xbb\xbfSELECT 1;")], "postgres")
    assert r.statements[0].text == "SELECT 1" and r.statements[0].col == 1


@pytest.mark.parametrize(
    ("sql", "variables", "expected"),
    [
        ("CREATE TABLE ${schema}.t (a int)", {"schema": "app"}, "app.t"),
        ("CREATE TABLE {{ .Schema }}.t (a int)", {"Schema": "app"}, "app.t"),
        ("CREATE TABLE {$NAMESPACE}_t (a int)", {"NAMESPACE": "phab"}, "phab_t"),
    ],
)
def test_placeholders_expand(sql: str, variables: dict[str, str], expected: str) -> None:
    r = parse(sql, variables=variables)
    assert r.statements[0].to_json()["table"] == expected


def test_missing_placeholder_names_file_line_and_placeholder() -> None:
    with pytest.raises(PlaceholderError, match=r"m\.sql: line 2: .*'\$\{schema\}'"):
        parse("SELECT 1;\nDROP TABLE ${schema}.t;")


@pytest.mark.parametrize(
    ("limits", "files", "match"),
    [
        (Limits(max_file_bytes=5), [SourceFile("a.sql", b"SELECT 1;")], "a.sql: 9 bytes"),
        (Limits(max_total_bytes=15), [SourceFile("a.sql", b"SELECT 1;")] * 2, "total size"),
        (Limits(max_files=1), [SourceFile("a.sql", b"SELECT 1;")] * 2, "2 files"),
        (Limits(max_statements=2), [SourceFile("a.sql", b"SELECT 1; SELECT 2; SELECT 3;")], "more than 2"),
        (Limits(max_nesting=3), [SourceFile("n.sql", b"SELECT ((((1))));")], "n.sql: line 1: nesting depth 4"),
    ],
)  # fmt: skip
def test_limits(limits: Limits, files: list[SourceFile], match: str) -> None:
    with pytest.raises(LimitExceeded, match=match):
        parse_migrations(files, "postgres", limits=limits)


def test_files_keep_order_sha_and_statement_counts() -> None:
    files = [SourceFile("2.sql", b"SELECT 1; SELECT 2;"), SourceFile("1.sql", b"SELECT 3;")]
    r = parse_migrations(files, "postgres")
    assert [(f.path, f.statements) for f in r.files] == [("2.sql", 2), ("1.sql", 1)]
    assert r.files[1].sha256 == "6d51e258cb323b98bf07dd6658c78c08adaf998a8e717f85e02d9c7ce869608b"
    assert [s.file for s in r.statements] == ["2.sql", "2.sql", "1.sql"]
    assert [s.index for s in r.statements] == [0, 1, 2]
