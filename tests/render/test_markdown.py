"""Markdown PR comment: headline, grouping, escaping, size limit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlgate_client.render import FORMATS, markdown


def test_registered() -> None:
    assert FORMATS["markdown"] is markdown.render


def test_headline_groups_help_and_suppressions(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    out = markdown.render(result, sources)
    assert out.startswith("### ❌ **sqlgate: denied**\n")
    assert "3 finding(s) (1 deny, 1 approval, 1 warn) in 6 statement(s); 1 suppressed." in out
    v1 = out.index("#### `migrations/V1__init.sql`")
    v2 = out.index("#### `migrations/V2__index.sql`")
    assert v1 < out.index("drop-table") < v2 < out.index("create-index-not-concurrently")
    assert "| 4:1 | ⚠️ approval | `drop-table` |" in out
    assert "<br>💡 rename it first and drop it in a later release |" in out
    assert "<summary>Suppressed findings</summary>" in out
    assert "orders is empty in every environment (ticket DB-42)" in out
    assert "verdict `vd_01HZX3`" in out
    assert "not shown" not in out


@pytest.mark.parametrize(
    ("decision", "headline"),
    [("allow", "✅ **sqlgate: allowed**"), ("needs_approval", "⚠️ **sqlgate: needs approval**")],
)
def test_other_headlines(decision: str, headline: str) -> None:
    out = markdown.render(
        {"decision": decision, "findings": [], "statements": 1, "policy_digest": "sha256:x"}, {}
    )
    assert out.startswith(f"### {headline}")


def test_cells_cannot_break_the_table() -> None:
    assert markdown.cell("a|b\nc<script>&`x`") == "a\\|b<br>c&lt;script&gt;&amp;\\`x\\`"
    row = markdown._row(
        {
            "rule": "r",
            "level": "deny",
            "file": "f",
            "line": 1,
            "column": 2,
            "message": "x | y\r\nz",
            "help": "h|i",
        }
    )
    # Exactly the 5 table separators survive, every other pipe is escaped.
    assert row.replace("\\|", "").count("|") == 5
    assert "\n" not in row


def _many(n: int, suppressed: int = 2000) -> dict[str, Any]:
    return {
        "decision": "deny",
        "findings": [
            {
                "rule": "update-without-where",
                "level": ["deny", "approval", "warn"][i % 3],
                "file": f"migrations/V{i % 250:04d}__change.sql",
                "line": i + 1,
                "column": 1,
                "message": f'UPDATE of "table_{i}" has no WHERE: it rewrites every row',
                "help": "batch it with -- sqlgate:batch key=id size=1000 pause=50ms",
            }
            for i in range(n)
        ],
        "statements": n,
        "policy_digest": "sha256:" + "cd" * 32,
        "suppressions": [
            {
                "rule": "drop-table",
                "file": f"m/{i}.sql",
                "line": 1,
                "reason": "x" * 80,
                "scope": "file",
            }
            for i in range(suppressed)
        ],
    }


def test_thousands_of_findings_are_truncated_under_the_limit() -> None:
    result = _many(5000)
    out = markdown.render(result, {})
    assert len(out) <= markdown.LIMIT
    rows = [line for line in out.splitlines() if line.startswith("| ") and "`update-" in line]
    left = 5000 - len(rows)
    assert 0 < len(rows) < 5000
    assert f"**{left} more finding(s) not shown**" in out
    assert "more suppression(s) not shown" in out
    assert out.rstrip().endswith("</sub>")  # the footer is always there


def test_a_moderate_result_is_not_truncated() -> None:
    out = markdown.render(_many(40, suppressed=10), {})
    assert "not shown" not in out
    assert out.count("`update-without-where`") == 40
