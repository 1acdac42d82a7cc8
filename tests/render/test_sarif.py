"""SARIF output: valid against the official 2.1.0 schema, levels, locations, fingerprints."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlgate_client.render import FORMATS, sarif

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


def _validate(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_registered() -> None:
    assert FORMATS["sarif"] is sarif.render


def test_valid_against_official_schema(result: dict[str, Any], sources: dict[str, str]) -> None:
    log = json.loads(sarif.render(result, sources))
    _validate(log)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_schema_rejects_a_broken_log(result: dict[str, Any], sources: dict[str, str]) -> None:
    """The validation above can fail: a wrong level is caught by the schema."""
    log = json.loads(sarif.render(result, sources))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        _validate(log)


def test_levels_rules_and_locations(result: dict[str, Any], sources: dict[str, str]) -> None:
    run = json.loads(sarif.render(result, sources))["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sqlgate"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [
        "drop-table",
        "create-index-not-concurrently",
        "update-without-where",
        "volatile-default",
    ]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["drop-table"]["level"] == "warning"
    assert by_rule["create-index-not-concurrently"]["level"] == "error"
    assert by_rule["update-without-where"]["level"] == "note"
    assert driver["rules"][1]["defaultConfiguration"]["level"] == "error"
    loc = by_rule["create-index-not-concurrently"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "migrations/V2__index.sql"
    assert loc["region"] == {"startLine": 2, "startColumn": 1}
    for res in run["results"]:
        assert driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    assert run["properties"]["decision"] == "deny"
    assert run["properties"]["verdictId"] == "vd_01HZX3"


def test_suppressed_finding_is_in_source_with_reason(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    run = json.loads(sarif.render(result, sources))["runs"][0]
    suppressed = [r for r in run["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    assert suppressed[0]["ruleId"] == "volatile-default"
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "justification": "orders is empty in every environment (ticket DB-42)"}
    ]
    assert all("suppressions" not in r for r in run["results"] if r["ruleId"] != "volatile-default")


def test_suppression_without_reason_is_refused(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    result["suppressions"][0]["reason"] = "  "
    with pytest.raises(ValueError, match="no reason"):
        sarif.render(result, sources)


def test_uri_is_relative_forward_slashes_and_encoded() -> None:
    assert sarif.artifact_uri(".\\db\\migrations\\V1.sql") == "db/migrations/V1.sql"
    assert sarif.artifact_uri("db/a:b, c%.sql") == "db/a%3Ab%2C%20c%25.sql"


def test_odd_paths_still_validate(result: dict[str, Any], sources: dict[str, str]) -> None:
    result["findings"][0]["file"] = "db\\weird: name, 100%.sql"
    result["findings"][0]["message"] = "line1\nline2: a, b % c"
    _validate(json.loads(sarif.render(result, sources)))


def test_set_level_finding_has_no_region(result: dict[str, Any], sources: dict[str, str]) -> None:
    result["findings"].append(
        {
            "rule": "missing-lock-timeout",
            "level": "deny",
            "file": "",
            "line": 0,
            "column": 0,
            "message": "no lock_timeout in the set",
            "help": "",
        }
    )
    log = json.loads(sarif.render(result, sources))
    _validate(log)
    last = next(r for r in log["runs"][0]["results"] if r["ruleId"] == "missing-lock-timeout")
    assert last["locations"] == []


def test_fingerprints_stable_across_runs_and_line_moves(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    def prints(res: dict[str, Any], src: dict[str, str]) -> dict[str, str]:
        run = json.loads(sarif.render(res, src))["runs"][0]
        return {r["ruleId"]: r["partialFingerprints"]["sqlgate/v1"] for r in run["results"]}

    first = prints(result, sources)
    assert first == prints(copy.deepcopy(result), dict(sources))
    assert len(set(first.values())) == len(first)

    # Two comment lines inserted above: lines move, the identity stays.
    moved_sources = dict(sources)
    v2 = sources["migrations/V2__index.sql"]
    moved_sources["migrations/V2__index.sql"] = "-- a\n--   b\n" + v2
    moved = copy.deepcopy(result)
    for f in moved["findings"]:
        if f["file"] == "migrations/V2__index.sql":
            f["line"] += 2
    assert prints(moved, moved_sources) == first

    # Changing the offending statement changes the fingerprint.
    changed_sources = dict(sources)
    changed_sources["migrations/V2__index.sql"] = sources["migrations/V2__index.sql"].replace(
        "orders (user_id)", "orders (customer_id)"
    )
    changed = prints(result, changed_sources)
    assert changed["create-index-not-concurrently"] != first["create-index-not-concurrently"]
    assert changed["drop-table"] == first["drop-table"]


def test_identical_lines_get_distinct_fingerprints() -> None:
    src = {"a.sql": "UPDATE t SET x = 1;\nUPDATE t SET x = 1;\n"}
    findings = [
        {
            "rule": "update-without-where",
            "level": "warn",
            "file": "a.sql",
            "line": n,
            "column": 1,
            "message": "m",
            "help": "",
        }
        for n in (1, 2)
    ]
    one, two = sarif.fingerprints(findings, src)
    assert one != two
    assert one.split(":")[0] == two.split(":")[0]


def test_unknown_level_or_decision_fails_closed(
    result: dict[str, Any], sources: dict[str, str]
) -> None:
    bad = copy.deepcopy(result)
    bad["findings"][0]["level"] = "error"
    with pytest.raises(ValueError, match="unknown level"):
        sarif.render(bad, sources)
    bad = copy.deepcopy(result)
    bad["decision"] = "maybe"
    with pytest.raises(ValueError, match="unknown decision"):
        sarif.render(bad, sources)


def test_allow_with_no_findings_is_valid(sources: dict[str, str]) -> None:
    log = json.loads(
        sarif.render(
            {
                "decision": "allow",
                "findings": [],
                "statements": 3,
                "policy_digest": "sha256:" + "0" * 64,
            },
            sources,
        )
    )
    _validate(log)
    assert log["runs"][0]["results"] == []
