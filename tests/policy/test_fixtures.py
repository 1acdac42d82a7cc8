"""Every rule folder's bad.sql makes its rule fire and good.sql does not, end to end:
the real parser (sqlgate.parse) and facts (sqlgate.facts) build the input, the embedded
engine evaluates the shipped policies. The inputs are validated against the schema too.
A fixture is PostgreSQL unless its first line says ``-- dialect: mysql``; a
``-- server_version: N`` line sets the target version (default: the review's, the newest
supported PostgreSQL); a rule folder's ``evidence.json`` is the rehearsal evidence its
bad.sql is checked with."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlgate.policy.embedded import EmbeddedEngine

from .conftest import POLICIES
from .inputs import VALIDATOR

parse = pytest.importorskip("sqlgate.parse", reason="sqlgate.parse (the parser) is not importable")
facts = pytest.importorskip("sqlgate.facts", reason="sqlgate.facts is not importable")

RULE_DIRS = sorted(p for p in (POLICIES / "rules").glob("*/*") if p.is_dir())


DIALECT = re.compile(rb"\A--\s*dialect:\s*(postgres|mysql)\b")
VERSION = re.compile(rb"^--\s*server_version:\s*(\S+)", re.MULTILINE)


def _input(sql_file: Path) -> dict[str, Any]:
    path = sql_file.relative_to(POLICIES).as_posix()
    content = sql_file.read_bytes()
    declared = DIALECT.match(content)
    dialect = declared.group(1).decode() if declared else "postgres"
    # The review's own input builder: metadata headers, suppression comments and, when the
    # rule folder has a catalog.json, the catalog facts go in exactly as in a real check.
    from sqlgate.review import MigrationFile, ReviewRequest, prepare_input

    catalog = sql_file.parent / "catalog.json"
    request = ReviewRequest(
        repo="",
        commit="",
        environment="production",
        target="fixtures",
        dialect=dialect,
        migrations=[MigrationFile(path, content)],
        catalog=catalog.read_bytes() if catalog.is_file() else None,
        server_version=version.group(1).decode() if (version := VERSION.search(content)) else None,
    )
    # A rule about rehearsal evidence: its folder's evidence.json is what bad.sql is
    # checked with (as if a rehearsal of it had been submitted); good.sql gets none.
    evidence = sql_file.parent / "evidence.json"
    with_evidence = sql_file.name == "bad.sql" and evidence.is_file()
    doc = prepare_input(
        request, evidence=json.loads(evidence.read_text()) if with_evidence else ()
    ).policy_input
    VALIDATOR.validate(doc)
    return doc


def _rule_id(rule_dir: Path) -> str:
    rego = rule_dir / f"{rule_dir.name.replace('-', '_')}.rego"
    found = re.search(r"^#\s+id:\s*(\S+)", rego.read_text(), re.MULTILINE)
    assert found
    return found.group(1)


def test_every_rule_has_fixtures() -> None:
    assert len(RULE_DIRS) >= 19


@pytest.mark.parametrize("rule_dir", RULE_DIRS, ids=lambda p: p.name)
def test_bad_fires_and_good_does_not(engine: EmbeddedEngine, rule_dir: Path) -> None:
    rule = _rule_id(rule_dir)
    bad = engine.evaluate(_input(rule_dir / "bad.sql"))
    good = engine.evaluate(_input(rule_dir / "good.sql"))
    assert rule in {f.rule for f in bad.findings}, f"{rule} did not fire on bad.sql: {bad}"
    assert rule not in {f.rule for f in good.findings}, f"{rule} fired on good.sql: {good}"
    fired = next(f for f in bad.findings if f.rule == rule)
    assert fired.file.endswith("bad.sql")
    assert fired.line >= 1
