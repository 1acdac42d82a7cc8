"""GitLab Code Quality report: shape, severities, stable fingerprints."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlgate_client.render import FORMATS, gitlab

REQUIRED = {"description", "check_name", "fingerprint", "severity", "location"}


def test_registered() -> None:
    assert FORMATS["gitlab"] is gitlab.render


def test_shape_and_severities(result: dict[str, Any], sources: dict[str, str]) -> None:
    issues = json.loads(gitlab.render(result, sources))
    assert isinstance(issues, list) and len(issues) == 3  # the suppression is left out
    for issue in issues:
        assert issue.keys() >= REQUIRED
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
    by_rule = {i["check_name"]: i for i in issues}
    assert by_rule["create-index-not-concurrently"]["severity"] == "blocker"
    assert by_rule["drop-table"]["severity"] == "major"
    assert by_rule["update-without-where"]["severity"] == "minor"
    assert by_rule["drop-table"]["location"] == {
        "path": "migrations/V1__init.sql",
        "lines": {"begin": 4},
    }
    assert "Help: rename it first" in by_rule["drop-table"]["description"]


def test_fingerprints_stable_and_distinct(result: dict[str, Any], sources: dict[str, str]) -> None:
    first = [i["fingerprint"] for i in json.loads(gitlab.render(result, sources))]
    again = [i["fingerprint"] for i in json.loads(gitlab.render(result, dict(sources)))]
    assert first == again
    assert len(set(first)) == 3
    assert all(len(f) == 32 and int(f, 16) >= 0 for f in first)


def test_paths_and_missing_lines() -> None:
    issues = gitlab.build(
        {
            "decision": "deny",
            "findings": [
                {
                    "rule": "r",
                    "level": "deny",
                    "file": ".\\db\\x, y: z.sql",
                    "line": 0,
                    "column": 0,
                    "message": "100% wrong\nreally",
                    "help": "",
                }
            ],
            "statements": 1,
            "policy_digest": "sha256:x",
        },
        {},
    )
    assert issues[0]["location"] == {"path": "db/x, y: z.sql", "lines": {"begin": 1}}
    assert issues[0]["description"] == "100% wrong\nreally"


def test_unknown_level_fails_closed(result: dict[str, Any], sources: dict[str, str]) -> None:
    result["findings"][0]["level"] = "critical"
    with pytest.raises(ValueError, match="unknown level"):
        gitlab.render(result, sources)
