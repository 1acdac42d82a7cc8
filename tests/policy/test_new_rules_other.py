"""The privileged-*, identifier, Atlas-class and MySQL online-DDL rules end to end.

Each of these rule folders' bad.sql must make its rule fire and good.sql must not, through
the real parser (sqlgate.parse), facts (sqlgate.facts) and the shipped policies in the
embedded engine. A fixture whose first line is ``-- dialect: mysql`` is parsed and
evaluated as MySQL (docs/rules.md, "Fixtures"); otherwise as PostgreSQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlgate import facts
from sqlgate.errors import PolicyEvaluationError
from sqlgate.long_names import long_identifiers
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import PolicyResult

from .conftest import POLICIES
from .inputs import VALIDATOR

FAMILIES = ("privileged", "identifiers", "mysql", "datadep", "constraints")
RULE_DIRS = sorted(p for f in FAMILIES for p in (POLICIES / "rules" / f).glob("*") if p.is_dir())
_DIALECT = re.compile(r"^--\s*dialect:\s*(postgres|mysql)\s*$")


def fixture_dialect(sql_file: Path) -> str:
    """``mysql`` when the file's first line is ``-- dialect: mysql``, else ``postgres``."""
    first = sql_file.read_text().split("\n", 1)[0].strip()
    found = _DIALECT.match(first)
    return found.group(1) if found else "postgres"


def build_input(
    sql: bytes, path: str, dialect: str, *, environment: str = "production"
) -> dict[str, Any]:
    parsed = parse_migrations([SourceFile(path=path, content=sql)], dialect)  # type: ignore[arg-type]
    derived = facts.derive(parsed.statements, catalog=None, dialect=dialect)
    doc = {
        "version": 1,
        "dialect": dialect,
        "environment": environment,
        "target": "fixtures",
        "repo": None,
        "commit": None,
        "server_version": None,
        "files": [
            {"path": f.path, "sha256": f.sha256, "statements": f.statements, "metadata": {}}
            for f in parsed.files
        ],
        "statements": [s.to_json() for s in derived.statements],
        "facts": derived.to_json(),
        "catalog": None,
    }
    for doc_s, s in zip(doc["statements"], derived.statements, strict=True):
        # what the review adds from the source text (sqlgate.long_names)
        doc_s["facts"]["long_identifiers"] = long_identifiers(s.text, dialect)
    VALIDATOR.validate(doc)
    return doc


def evaluate(engine: EmbeddedEngine, sql_file: Path) -> PolicyResult:
    rel = sql_file.relative_to(POLICIES).as_posix()
    return engine.evaluate(build_input(sql_file.read_bytes(), rel, fixture_dialect(sql_file)))


def rule_id(rule_dir: Path) -> str:
    rego = rule_dir / f"{rule_dir.name.replace('-', '_')}.rego"
    found = re.search(r"^#\s+id:\s*(\S+)", rego.read_text(), re.MULTILINE)
    assert found, rego
    return found.group(1)


def test_the_families_hold_every_rule() -> None:
    assert len(RULE_DIRS) == 17
    assert {rule_id(d) for d in RULE_DIRS} >= {
        "privileged-grant",
        "identifier-confusable",
        "mysql-table-rebuild",
        "unique-on-existing-data",
    }
    for d in RULE_DIRS:
        assert rule_id(d) == d.name
        for name in ("bad.sql", "good.sql", "README.md", f"{d.name.replace('-', '_')}_test.rego"):
            assert (d / name).is_file(), d / name


def test_fixture_dialect_convention(tmp_path: Path) -> None:
    f = tmp_path / "x.sql"
    f.write_text("-- dialect: mysql\nSELECT 1;\n")
    assert fixture_dialect(f) == "mysql"
    f.write_text("SELECT 1;\n-- dialect: mysql\n")
    assert fixture_dialect(f) == "postgres"


@pytest.mark.parametrize("rule_dir", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fires_and_good_does_not(engine: EmbeddedEngine, rule_dir: Path) -> None:
    rule = rule_id(rule_dir)
    bad = evaluate(engine, rule_dir / "bad.sql")
    good = evaluate(engine, rule_dir / "good.sql")
    assert rule in {f.rule for f in bad.findings}, f"{rule} did not fire on bad.sql: {bad}"
    assert rule not in {f.rule for f in good.findings}, f"{rule} fired on good.sql: {good}"
    fired = next(f for f in bad.findings if f.rule == rule)
    assert fired.file.endswith("bad.sql") and fired.line >= 1
    if rule.startswith("privileged-"):
        assert fired.approver_role == "security"
        assert fired.level == "approval" and bad.decision in ("needs_approval", "deny")
    else:
        assert fired.approver_role is None


def test_mysql_rules_stay_quiet_on_postgres(engine: EmbeddedEngine) -> None:
    sql = b"ALTER TABLE users ALTER COLUMN email TYPE varchar(320);\n"
    result = engine.evaluate(build_input(sql, "V1__x.sql", "postgres"))
    assert "column-type-change" in {f.rule for f in result.findings}
    assert not any(f.rule.startswith("mysql-") for f in result.findings)


@pytest.mark.parametrize(
    ("sql", "fires"),
    [
        ("ALTER TABLE users MODIFY email varchar(320), ALGORITHM=INPLACE, LOCK=NONE;", False),
        ("ALTER TABLE users MODIFY email varchar(320), ALGORITHM=INPLACE;", True),
        ("ALTER TABLE users ADD COLUMN c int AFTER id;", True),  # server version unknown
        ("ALTER TABLE users ADD COLUMN c int;", False),
        ("ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4;", True),
        ("ALTER TABLE users DROP PRIMARY KEY;", True),
        ("CREATE FULLTEXT INDEX users_bio_ft ON users (bio);", True),
        ("CREATE INDEX users_bio_idx ON users (bio);", False),
        ("CREATE TABLE t (id int); ALTER TABLE t MODIFY id bigint;", False),  # new table
    ],
)
def test_mysql_table_rebuild_cases(engine: EmbeddedEngine, sql: str, fires: bool) -> None:
    result = engine.evaluate(build_input(sql.encode(), "V1__x.sql", "mysql"))
    assert ("mysql-table-rebuild" in {f.rule for f in result.findings}) is fires, result


def test_add_column_after_is_accepted_on_mysql_8_0_29(engine: EmbeddedEngine) -> None:
    doc = build_input(b"ALTER TABLE users ADD COLUMN c int AFTER id;", "V1__x.sql", "mysql")
    assert "mysql-table-rebuild" in {f.rule for f in engine.evaluate(doc).findings}
    doc["server_version"] = "8.0.35"
    assert "mysql-table-rebuild" not in {f.rule for f in engine.evaluate(doc).findings}


@pytest.mark.parametrize(
    "name",
    [
        '"us\u0435rs"',  # Cyrillic e
        '"\u03b1lpha"',  # Greek alpha + Latin
        '"na\u200bme"',  # zero-width space
        '"cafe\u0301"',  # not NFC
        '"abc\u202e"',  # bidi override
    ],
)
def test_identifier_confusable_denies_in_production(engine: EmbeddedEngine, name: str) -> None:
    sql = f"CREATE TABLE {name} (id bigint PRIMARY KEY);".encode()
    result = engine.evaluate(build_input(sql, "V1__x.sql", "postgres"))
    assert result.decision == "deny"
    (found,) = [f for f in result.findings if f.rule == "identifier-confusable"]
    assert found.level == "deny" and found.statement == 0
    dev = engine.evaluate(build_input(sql, "V1__x.sql", "postgres", environment="dev"))
    assert [f.level for f in dev.findings if f.rule == "identifier-confusable"] == ["warn"]


def test_identifier_facts_reach_the_input() -> None:
    doc = build_input('CREATE TABLE "us\u0435rs" (id int);'.encode(), "V1__x.sql", "postgres")
    (stmt,) = doc["statements"]
    assert {
        "name": "us\u0435rs",
        "nfc": True,
        "scripts": ["CYRILLIC", "LATIN"],
        "invisible": False,
    } in stmt["facts"]["identifiers"]


def test_plain_and_japanese_identifiers_pass(engine: EmbeddedEngine) -> None:
    sql = 'CREATE TABLE "\u30e6\u30fc\u30b6\u30fc_2024" (id bigint PRIMARY KEY, "名前" text);'
    result = engine.evaluate(build_input(sql.encode(), "V1__x.sql", "postgres"))
    assert "identifier-confusable" not in {f.rule for f in result.findings}, result


def test_other_findings_carry_no_approver_role(engine: EmbeddedEngine) -> None:
    result = engine.evaluate(build_input(b"DROP TABLE users;", "V1__x.sql", "postgres"))
    assert "drop-table" in {f.rule for f in result.findings}
    assert all(f.approver_role is None for f in result.findings)


def test_a_malformed_approver_role_is_refused(policy_copy: Path) -> None:
    rule = policy_copy / "rules" / "privileged" / "privileged-grant" / "privileged_grant.rego"
    rule.write_text(rule.read_text().replace('"approver_role": "security"', '"approver_role": 7'))
    eng = EmbeddedEngine(load_policy_set(policy_copy))
    try:
        with pytest.raises(PolicyEvaluationError, match="approver_role"):
            eng.evaluate(build_input(b"GRANT SELECT ON t TO bob;", "V1__x.sql", "postgres"))
    finally:
        eng.close()
