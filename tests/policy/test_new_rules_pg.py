"""The PostgreSQL rule set (Squawk parity, version awareness) through the real review use case.

Each rule folder's bad.sql must make its rule fire and good.sql must not, parsed by the real
parser and evaluated by the embedded engine; version-aware rules are checked on both sides
of their threshold with real SQL and a declared ``server_version``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlgate.errors import InputError
from sqlgate.facts import derive
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, review

from .conftest import POLICIES

RULES = {
    "locking": [
        "add-column-default-rewrite", "enum-value-in-transaction",
        "unique-constraint-without-index", "add-primary-key-without-index",
        "check-not-valid-missing", "reindex-not-concurrent", "detach-partition-not-concurrent",
        "statement-timeout-missing", "alter-domain-add-constraint",
    ],
    "compat": [
        "create-domain-with-constraint", "drop-object", "drop-default", "drop-not-null",
        "alter-identity", "set-schema", "rename-object",
    ],
    "destructive": ["drop-database", "truncate-cascade"],
    "meta": ["transaction-nesting", "uncommitted-transaction", "retry-unsafe-ddl"],
    "types": ["char-column", "prefer-bigint", "prefer-identity", "varchar-column",
              "timestamp-without-tz"],
}  # fmt: skip
DIRS = [POLICIES / "rules" / fam / rid for fam, ids in RULES.items() for rid in ids]


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    eng = EmbeddedEngine(load_policy_set(POLICIES))
    yield eng
    eng.close()


def rules_fired(
    engine: EmbeddedEngine,
    sql: str,
    *,
    version: str | None = None,
    dialect: str = "postgres",
    env: str = "production",
) -> dict[str, str]:
    """{rule: level} of the findings for ``sql`` reviewed as one migration file."""
    result = review(
        ReviewRequest(
            repo="acme/app",
            commit="abc123",
            environment=env,
            target="main-db",
            dialect=dialect,
            migrations=[MigrationFile("V1__m.sql", sql.encode())],
            server_version=version,
        ),
        engine=engine,
    )
    return {f.rule: f.level for f in result.findings}


def test_every_rule_folder_is_complete_and_has_levels() -> None:
    levels = (POLICIES / "data" / "levels.yaml").read_text()
    for d in DIRS:
        snake = d.name.replace("-", "_")
        for name in ("bad.sql", "good.sql", "README.md", f"{snake}.rego", f"{snake}_test.rego"):
            assert (d / name).is_file(), d / name
        assert f"\n  {d.name}: " in levels, d.name
        assert f"id: {d.name}" in (d / f"{snake}.rego").read_text()


@pytest.mark.parametrize("rule_dir", DIRS, ids=lambda p: p.name)
def test_bad_fires_and_good_does_not(engine: EmbeddedEngine, rule_dir: Path) -> None:
    rule = rule_dir.name
    bad = (rule_dir / "bad.sql").read_text()
    # a fixture for an older PostgreSQL says so (as tests/policy/test_fixtures.py reads it)
    declared = re.search(r"^--\s*server_version:\s*(\S+)", bad, re.MULTILINE)
    version = declared.group(1) if declared else None
    assert rule in rules_fired(engine, bad, version=version)
    assert rule not in rules_fired(engine, (rule_dir / "good.sql").read_text(), version=version)


@pytest.mark.parametrize("rule_dir", DIRS, ids=lambda p: p.name)
def test_postgres_only_rules_are_silent_for_mysql(engine: EmbeddedEngine, rule_dir: Path) -> None:
    if rule_dir.name == "drop-database":  # DROP DATABASE is as bad in MySQL
        assert "drop-database" in rules_fired(engine, "DROP DATABASE shop;", dialect="mysql")
        return
    sql = (rule_dir / "bad.sql").read_text()
    try:
        fired = rules_fired(engine, sql, dialect="mysql")
    except InputError:  # PostgreSQL-only syntax MySQL refuses: nothing to check
        return
    assert rule_dir.name not in fired


@pytest.mark.parametrize(
    ("sql", "rule", "below", "at"),
    [("ALTER TABLE users ADD COLUMN active boolean DEFAULT true;", "add-column-default-rewrite",
      "10.23", "11"),
     ("BEGIN;\nALTER TYPE mood ADD VALUE 'meh';\nCOMMIT;", "enum-value-in-transaction",
      "11", "12.4")],
)  # fmt: skip
def test_version_thresholds(
    engine: EmbeddedEngine, sql: str, rule: str, below: str, at: str
) -> None:
    assert rule not in rules_fired(engine, sql)  # no version: the newest supported major
    assert rule in rules_fired(engine, sql, version=below)
    assert rule not in rules_fired(engine, sql, version=at)
    assert rule not in rules_fired(engine, sql, version="PostgreSQL 17.2")


def test_volatile_default_still_flagged_on_new_versions(engine: EmbeddedEngine) -> None:
    fired = rules_fired(
        engine, "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", version="16"
    )
    assert "volatile-default" in fired
    assert "add-column-default-rewrite" not in fired


def test_levels_per_environment(engine: EmbeddedEngine) -> None:
    sql = "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);"
    assert rules_fired(engine, sql)["unique-constraint-without-index"] == "deny"
    assert rules_fired(engine, sql, env="dev")["unique-constraint-without-index"] == "warn"
    assert rules_fired(engine, "DROP DATABASE shop;")["drop-database"] == "deny"
    timeout = "ALTER TABLE users ALTER COLUMN age TYPE bigint;"
    assert "statement-timeout-missing" in rules_fired(engine, timeout)
    assert "statement-timeout-missing" not in rules_fired(engine, timeout, env="dev")


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("SET statement_timeout = '5s';\n", True),
     ("SET statement_timeout = 0;\n", False),
     ("BEGIN;\nSET LOCAL statement_timeout = '5s';\nCOMMIT;\n", False),
     ("SET statement_timeout = '5s';\nRESET statement_timeout;\n", False),
     ("", False)],
)  # fmt: skip
def test_statement_timeout_fact(prefix: str, expected: bool) -> None:
    sql = prefix + "ALTER TABLE users ALTER COLUMN age TYPE bigint;"
    parsed = parse_migrations([SourceFile("m.sql", sql.encode())], "postgres")
    last = derive(parsed.statements).statements[-1]
    assert last.facts["statement_timeout_set"] is expected, json.dumps(last.to_json())


def test_statement_timeout_silences_the_rule(engine: EmbeddedEngine) -> None:
    sql = "SET statement_timeout = '5s';\nALTER TABLE users ALTER COLUMN age TYPE bigint;"
    assert "statement-timeout-missing" not in rules_fired(engine, sql)
