"""GitHub Actions workflow commands: levels, positions, escaping, summary."""

from __future__ import annotations

from typing import Any

import pytest
from sqlgate_client.render import FORMATS, github


def test_registered() -> None:
    assert FORMATS["github"] is github.render


def test_one_annotation_per_finding_then_summary(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    lines = github.render(result, sources).splitlines()
    assert len(lines) == 4
    assert lines[0] == (
        "::warning file=migrations/V1__init.sql,line=4,col=1,title=sqlgate drop-table (approval)"
        '::dropping table "legacy_sessions" loses its data%0AHelp: rename it first and drop it'
        " in a later release"
    )
    assert lines[1].startswith("::error file=migrations/V2__index.sql,line=2,col=1,")
    assert lines[2].startswith("::notice file=migrations/V2__index.sql,line=3,col=1,")
    assert lines[3] == (
        "sqlgate: decision deny: 3 finding(s) (1 deny, 1 approval, 1 warn), 1 suppressed, "
        f"6 statement(s), policy sha256:{'ab' * 32}, verdict vd_01HZX3"
    )


def test_escaping_in_message_and_properties() -> None:
    finding = {
        "rule": "r,1:x",
        "level": "deny",
        "file": "db\\a:b, 50%.sql",
        "line": 7,
        "column": 3,
        "message": "100% bad: a, b\r\nnext ::error::injected",
        "help": "",
    }
    line = github.annotation(finding)
    assert line == (
        "::error file=db/a%3Ab%2C 50%25.sql,line=7,col=3,title=sqlgate r%2C1%3Ax (deny)"
        "::100%25 bad: a, b%0D%0Anext ::error::injected"
    )
    # Exactly one physical line: nothing in the message can start a new command.
    assert "\n" not in line and "\r" not in line


def test_escape_functions() -> None:
    assert github.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


def test_set_level_finding_has_no_position() -> None:
    line = github.annotation(
        {
            "rule": "no-lock-timeout",
            "level": "approval",
            "file": "",
            "line": 0,
            "column": 0,
            "message": "m",
            "help": "",
        }
    )
    assert line == "::warning title=sqlgate no-lock-timeout (approval)::m"


def test_allow_is_only_a_summary(sources: dict[str, str]) -> None:
    out = github.render(
        {"decision": "allow", "findings": [], "statements": 2, "policy_digest": "sha256:x"},
        sources,
    )
    assert out == (
        "sqlgate: decision allow: 0 finding(s) (0 deny, 0 approval, 0 warn), 0 suppressed, "
        "2 statement(s), policy sha256:x\n"
    )


def test_unknown_level_fails_closed(result: dict[str, Any], sources: dict[str, str]) -> None:
    result["findings"][2]["level"] = "info"
    with pytest.raises(ValueError, match="unknown level"):
        github.render(result, sources)
