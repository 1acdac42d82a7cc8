"""Per-environment levels through the real policies and data; destructive gates hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import PolicyResult

from .conftest import POLICIES
from .inputs import policy_input, stmt

DESTRUCTIVE = {
    "drop-table": ("drop_table", {"tables": ["t"]}),
    "drop-column": ("drop_column", {"table": "t", "column": "c"}),
    "truncate": ("truncate", {"tables": ["t"]}),
    "drop-schema": ("drop_schema", {"names": ["s"], "cascade": True}),
    "delete-without-where": ("delete", {"table": "t", "has_where": False}),
    "unbatched-backfill": ("update", {"table": "t", "has_where": False}),
    "unrecognized-statement": ("unknown", {"reason": "neither parser understood it"}),
}
BLOCKING_INDEX = stmt(
    "create_index", concurrently=False, facts={"lock": "SHARE", "lock_timeout_set": True}
)


def _levels() -> dict[str, Any]:
    data = yaml.safe_load((POLICIES / "data" / "levels.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _rules(result: PolicyResult) -> dict[str, str]:
    return {f.rule: f.level for f in result.findings}


@pytest.mark.parametrize("env", ["production", "staging", "no-such-env", "Production"])
def test_strict_environments_deny_a_blocking_index(engine: EmbeddedEngine, env: str) -> None:
    result = engine.evaluate(policy_input([BLOCKING_INDEX], environment=env))
    assert result.decision == "deny"
    assert _rules(result) == {"index-not-concurrent": "deny"}


def test_dev_lowers_lock_rules_to_warn(engine: EmbeddedEngine) -> None:
    result = engine.evaluate(policy_input([BLOCKING_INDEX], environment="dev"))
    assert result.decision == "allow"
    assert _rules(result) == {"index-not-concurrent": "warn"}


def test_dev_disables_lock_timeout_missing(engine: EmbeddedEngine) -> None:
    s = stmt(
        "add_column",
        table="t",
        column={
            "name": "c",
            "type": "text",
            "not_null": False,
            "default": None,
            "default_volatile": False,
            "primary_key": False,
        },
        foreign_key=None,
        facts={"lock": "ACCESS EXCLUSIVE"},
    )
    assert _rules(engine.evaluate(policy_input([s]))) == {"lock-timeout-missing": "warn"}
    assert engine.evaluate(policy_input([s], environment="dev")).findings == []


@pytest.mark.parametrize("rule", sorted(DESTRUCTIVE))
def test_destructive_gates_keep_their_level_in_dev(engine: EmbeddedEngine, rule: str) -> None:
    kind, fields = DESTRUCTIVE[rule]
    default = _levels()["defaults"][rule]
    for env in ("production", "dev", "unknown-env"):
        result = engine.evaluate(policy_input([stmt(kind, **fields)], environment=env))
        assert _rules(result) == {rule: default}, env


def test_destructive_cannot_be_lowered_or_disabled_by_data(policy_copy: Path) -> None:
    """Even a levels.yaml that tries to lower and disable every destructive gate fails to."""
    levels_file = policy_copy / "data" / "levels.yaml"
    levels = yaml.safe_load(levels_file.read_text())
    levels["environments"]["dev"]["levels"].update({r: "warn" for r in DESTRUCTIVE})
    levels["environments"]["dev"]["disabled"] = [*sorted(DESTRUCTIVE), "rename-table"]
    levels["defaults"].update({r: "warn" for r in DESTRUCTIVE})
    levels_file.write_text(yaml.safe_dump(levels))
    eng = EmbeddedEngine(load_policy_set(policy_copy))
    try:
        statements = [
            stmt(kind, i, **fields) for i, (kind, fields) in enumerate(DESTRUCTIVE.values())
        ]
        statements.append(stmt("rename_table", len(statements), table="a", new_name="b"))
        result = eng.evaluate(policy_input(statements, environment="dev"))
        floors = {r: _levels()["defaults"][r] for r in DESTRUCTIVE}
        assert _rules(result) == floors  # rename-table (not destructive) was disabled
        assert result.decision == "deny"  # unbatched-backfill's floor is deny
    finally:
        eng.close()


def test_every_rule_has_a_default_level_matching_its_metadata() -> None:
    defaults = _levels()["defaults"]
    seen = {}
    for rego in sorted((POLICIES / "rules").glob("*/*/*.rego")):
        if rego.name.endswith("_test.rego"):
            continue
        text = rego.read_text()
        rule_id = re.search(r"^#\s+id:\s*(\S+)", text, re.MULTILINE)
        level = re.search(r"^#\s+level:\s*(\S+)", text, re.MULTILINE)
        assert rule_id and level, rego
        seen[rule_id.group(1)] = level.group(1)
        # folder = id, file = snake id, package = sqlgate.rules.<family>.<snake id>
        assert rego.parent.name == rule_id.group(1)
        snake = rule_id.group(1).replace("-", "_")
        assert rego.name == f"{snake}.rego"
        family = rego.parent.parent.name
        assert f"package sqlgate.rules.{family}.{snake}\n" in text
        assert f'"rule": "{rule_id.group(1)}"' in text
        for name in (f"{snake}_test.rego", "bad.sql", "good.sql", "README.md"):
            assert (rego.parent / name).is_file(), rego.parent / name
    assert seen == defaults
    assert len(seen) >= 19
