"""One verdict, one execution, in the store (both backends): a second token of a verdict
is not redeemed while the first one's run is not reported as having applied nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlgate.errors import AlreadyExecuted
from sqlgate.store.sql import nothing_applied

from store.conftest import Backend
from store.records import T0, token, verdict

NOW = T0 + timedelta(minutes=1)


def _report(outcome: str, *statements: tuple[str, int, str]) -> dict[str, Any]:
    return {
        "statements": [
            {"outcome": o, "rows_affected": rows, "error": err} for o, rows, err in statements
        ]
    }


def test_second_token_waits_for_a_report_that_nothing_was_applied(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict())
    for jti in ("t1", "t2", "t3"):
        s.put_token(token(jti))
    assert s.executed_by("v1") is None
    s.redeem_token("t1", runner="runner:deploy", now=NOW)
    assert s.executed_by("v1") == "t1"
    with pytest.raises(AlreadyExecuted, match="t1"):
        s.redeem_token("t2", runner="runner:deploy", now=NOW)
    assert s.get_token("t2").redeemed_at is None  # the refusal consumed nothing
    s.record_report(
        "r1",
        token_jti="t1",
        verdict_id="v1",
        outcome="failed",
        details=_report("failed", ("aborted", 3, "rolled back"), ("failed", -1, "boom")),
        at=NOW,
    )
    assert s.executed_by("v1") is None
    s.redeem_token("t2", runner="runner:deploy", now=NOW)
    with pytest.raises(AlreadyExecuted, match="t2"):
        s.redeem_token("t3", runner="runner:deploy", now=NOW)


def test_other_verdicts_are_independent(backend: Backend) -> None:
    s = backend.store
    s.put_verdict(verdict("v1"))
    s.put_verdict(verdict("v2"))
    s.put_token(token("a", "v1"))
    s.put_token(token("b", "v2"))
    s.redeem_token("a", runner="runner:deploy", now=NOW)
    s.redeem_token("b", runner="runner:deploy", now=NOW)


@pytest.mark.parametrize(
    ("outcome", "statements", "nothing"),
    [
        ("failed", [("aborted", 1, "rolled back"), ("failed", -1, "x")], True),
        ("skipped", [("skipped", -1, "already applied")], True),
        ("failed", [("skipped", -1, "not run"), ("failed", -1, "x")], True),
        ("succeeded", [("skipped", -1, "")], False),
        ("failed", [("succeeded", 1, ""), ("failed", -1, "x")], False),
        ("failed", [("failed", 500, "batch chunk failed after id=500")], False),
        ("aborted", [("aborted", 300, "interrupted after id=300")], False),
        ("failed", [("aborted", 1, "something else")], False),
    ],
)
def test_nothing_applied(
    outcome: str, statements: list[tuple[str, int, str]], nothing: bool
) -> None:
    assert nothing_applied(outcome, _report(outcome, *statements)) is nothing
    assert nothing_applied(outcome, {}) is False
