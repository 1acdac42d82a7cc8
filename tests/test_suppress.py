"""sqlgate:ignore comments through the real review (parser, facts, embedded engine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from policy.conftest import POLICIES
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, ReviewResult, review

# rename-column fires on an existing table (warn); drop-table needs approval.
RENAME = "ALTER TABLE accounts\n  RENAME COLUMN\n  plan TO tier;\n"


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    eng = EmbeddedEngine(load_policy_set(POLICIES))
    yield eng
    eng.close()


def check(engine: EmbeddedEngine, sql: str, env: str = "production") -> ReviewResult:
    request = ReviewRequest(
        repo="r",
        commit="c",
        environment=env,
        target="t",
        dialect="postgres",
        migrations=[MigrationFile("V1__x.sql", sql.encode())],
    )
    return review(request, engine=engine)


def rules(result: ReviewResult) -> set[str]:
    return {f.rule for f in result.findings}


def test_without_comment_the_finding_stands(engine: EmbeddedEngine) -> None:
    assert "rename-column" in rules(check(engine, RENAME))


def test_statement_scope_covers_a_multi_line_statement(engine: EmbeddedEngine) -> None:
    sql = "-- sqlgate:ignore rename-column -- no code reads plan (APP-7)\n" + RENAME
    result = check(engine, sql)
    assert "rename-column" not in rules(result)
    assert not rules(result) & {"suppression-unused", "suppression-invalid"}
    assert result.suppressions == [
        {
            "rule": "rename-column",
            "file": "V1__x.sql",
            "line": 2,
            "reason": "no code reads plan (APP-7)",
            "scope": "statement",
        }
    ]
    assert result.to_json()["suppressions"] == result.suppressions


def test_statement_scope_is_only_the_next_statement(engine: EmbeddedEngine) -> None:
    sql = "-- sqlgate:ignore rename-column -- first only\n" + RENAME + RENAME.replace("plan", "x")
    result = check(engine, sql)
    assert [f.line for f in result.findings if f.rule == "rename-column"] == [5]


def test_file_scope_covers_every_statement(engine: EmbeddedEngine) -> None:
    sql = "-- sqlgate:ignore-file rename-column -- renames agreed in RFC-12\n" + RENAME * 2
    result = check(engine, sql)
    assert "rename-column" not in rules(result)
    assert [s["line"] for s in result.suppressions] == [2, 5]
    assert {s["scope"] for s in result.suppressions} == {"file"}


def test_reasonless_comment_is_invalid_and_suppresses_nothing(engine: EmbeddedEngine) -> None:
    result = check(engine, "-- sqlgate:ignore rename-column\n" + RENAME)
    assert {"rename-column", "suppression-invalid"} <= rules(result)
    invalid = next(f for f in result.findings if f.rule == "suppression-invalid")
    assert (invalid.line, invalid.level) == (1, "deny")
    assert result.decision == "deny"
    assert result.suppressions == []


def test_unknown_rule_is_reported(engine: EmbeddedEngine) -> None:
    result = check(engine, "-- sqlgate:ignore rename-colum -- typo\n" + RENAME)
    unused = [f for f in result.findings if f.rule == "suppression-unused"]
    assert len(unused) == 1 and "rename-colum" in unused[0].message
    assert unused[0].level == "warn"
    assert "rename-column" in rules(result)


def test_ignore_that_suppresses_nothing_is_reported(engine: EmbeddedEngine) -> None:
    result = check(engine, "-- sqlgate:ignore rename-table -- not here\n" + RENAME)
    unused = [f for f in result.findings if f.rule == "suppression-unused"]
    assert len(unused) == 1 and "suppresses nothing" in unused[0].message


def test_destructive_gate_cannot_be_suppressed(engine: EmbeddedEngine) -> None:
    result = check(engine, "-- sqlgate:ignore drop-table -- it is unused\nDROP TABLE legacy;\n")
    assert {"drop-table", "suppression-not-allowed"} <= rules(result)
    assert result.decision == "needs_approval"
    assert result.suppressions == []


def test_comment_inside_a_statement_is_invalid(engine: EmbeddedEngine) -> None:
    sql = "CREATE TABLE n (\n  -- sqlgate:ignore rename-column -- x\n  id bigint\n);\n"
    assert "suppression-invalid" in rules(check(engine, sql))


def test_more_file_comments_than_the_limit_are_invalid(engine: EmbeddedEngine) -> None:
    """Each ignore-file comment lists every statement: thousands would blow up the input."""
    from sqlgate.suppress import MAX_FILE_DIRECTIVES

    comments = "".join(
        f"-- sqlgate:ignore-file rename-column -- copy {i}\n"
        for i in range(MAX_FILE_DIRECTIVES + 3)
    )
    result = check(engine, comments + RENAME * 3)
    invalid = [f for f in result.findings if f.rule == "suppression-invalid"]
    assert [f.line for f in invalid] == [MAX_FILE_DIRECTIVES + i + 1 for i in range(3)]
    assert "more than 64 ignore-file comments" in invalid[0].message
    assert result.decision == "deny"
