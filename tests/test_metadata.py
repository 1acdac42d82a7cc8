"""Migration metadata: sidecar and header, strict validation, and the rules that read it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from policy.conftest import POLICIES
from sqlgate.errors import MetadataError
from sqlgate.metadata import load_metadata
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, ReviewResult, review
from sqlgate_client.rollback import down_candidates

HEADER = """-- sqlgate:meta
-- environments: [dev, staging]
-- risk: high
-- rollback: compensating
-- rollback_file: V7__undo.sql
-- owner: team-billing
-- lock_timeout: 2s
-- statement_timeout: 5min
-- expected_runtime: 30s
-- a free comment ends the block
ALTER TABLE accounts ADD COLUMN note text;
"""


def test_header_block() -> None:
    md = load_metadata("V7__x.sql", HEADER, None)
    assert md == {
        "environments": ["dev", "staging"],
        "risk": "high",
        "owner": "team-billing",
        "expected_runtime": "30s",
        "lock_timeout": "2s",
        "statement_timeout": "5min",
        "rollback": {"strategy": "compensating", "file": "V7__undo.sql", "reason": None},
        "source": "header",
    }


def test_sidecar() -> None:
    sidecar = b"environments: dev, staging\nrollback: none\nreason: data fix, no way back\n"
    md = load_metadata("V8__x.sql", "UPDATE t SET a = 1 WHERE id = 2;\n", sidecar)
    assert md["environments"] == ["dev", "staging"]
    assert md["rollback"] == {"strategy": "none", "file": None, "reason": "data fix, no way back"}
    assert md["source"] == "sidecar"


def test_nothing_declared() -> None:
    assert load_metadata("V1__x.sql", "-- just a comment\nSELECT 1;\n", None) == {}


@pytest.mark.parametrize(
    ("sidecar", "match"),
    [
        (b"enviroments: [dev]\n", "unknown metadata key"),
        (b"risk: extreme\n", "risk"),
        (b"environments: []\n", "environments"),
        (b"environments: [1]\n", "environments"),
        (b"rollback: compensating\n", "rollback_file"),
        (b"rollback: none\n", "reason"),
        (b"rollback: transactional\nreason: x\n", "reason"),
        (b"rollback: sometimes\n", "rollback"),
        (b"lock_timeout: soon\n", "lock_timeout"),
        (b"owner: 3\n", "owner"),
        (b"- a list\n", "mapping"),
        (b"a: [\n", "YAML"),
        (b"reconcile: []\n", "reconcile: expected a non-empty list"),
        (b"reconcile: {name: c}\n", "reconcile: expected a non-empty list"),
        (b"reconcile:\n  - {name: c, sql: SELECT 1}\n", r"reconcile\[0\]\.expect"),
        (b"reconcile:\n  - {name: c, sql: SELECT 1, expect: equal}\n", "unchanged, zero rows"),
        (b"reconcile:\n  - {name: c, sql: '', expect: unchanged}\n", r"reconcile\[0\]\.sql"),
        (b"reconcile:\n  - {name: 'a b', sql: x, expect: unchanged}\n", "name"),
        (b"reconcile:\n  - {name: c, sql: x, expect: unchanged, when: after}\n", "when"),
        (
            b"reconcile:\n  - {name: c, sql: x, expect: unchanged}\n"
            b"  - {name: c, sql: y, expect: zero rows}\n",
            "declared twice",
        ),
    ],
)
def test_invalid_metadata_names_file_and_key(sidecar: bytes, match: str) -> None:
    with pytest.raises(MetadataError, match=match) as info:
        load_metadata("V9__bad.sql", "SELECT 1;\n", sidecar)
    assert info.value.file == "V9__bad.sql"


def test_reconcile_checks_are_normalised_from_sidecar_and_header() -> None:
    sidecar = (
        b"reconcile:\n"
        b"  - name: orders-count\n"
        b"    sql: SELECT count(*) FROM orders;\n"
        b"    expect: unchanged\n"
        b"  - {name: no-orphans, sql: SELECT 1 WHERE false, expect: zero rows}\n"
    )
    md = load_metadata("V8__x.sql", "SELECT 1;\n", sidecar)
    assert md["reconcile"] == [
        {"name": "orders-count", "sql": "SELECT count(*) FROM orders", "expect": "unchanged"},
        {"name": "no-orphans", "sql": "SELECT 1 WHERE false", "expect": "zero rows"},
    ]
    header = (
        "-- sqlgate:meta\n-- reconcile:\n"
        '--   - {name: n, sql: "SELECT sum(total) FROM orders", expect: unchanged}\nSELECT 1;\n'
    )
    assert load_metadata("V9__x.sql", header, None)["reconcile"] == [
        {"name": "n", "sql": "SELECT sum(total) FROM orders", "expect": "unchanged"}
    ]


def test_sidecar_and_header_together_are_refused() -> None:
    with pytest.raises(MetadataError, match="declared twice"):
        load_metadata("V7__x.sql", HEADER, b"risk: low\n")


def test_invalid_header_is_refused() -> None:
    with pytest.raises(MetadataError, match="unknown"):
        load_metadata("V7__x.sql", "-- sqlgate:meta\n-- rollback-file: x\nSELECT 1;\n", None)


def test_down_file_conventions() -> None:
    assert down_candidates("db/12_add.up.sql") == ["db/12_add.down.sql"]
    assert down_candidates("db/V12__add.sql") == ["db/U12__add.sql"]
    assert down_candidates("db/2024_x/up.sql") == ["db/2024_x/down.sql"]
    assert down_candidates("db/0001_init.sql") == ["db/0001_init.down.sql"]


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    eng = EmbeddedEngine(load_policy_set(POLICIES))
    yield eng
    eng.close()


def check(
    engine: EmbeddedEngine,
    sql: str,
    *,
    env: str = "production",
    sidecar: bytes | None = None,
    rollback_files: tuple[str, ...] = (),
) -> ReviewResult:
    request = ReviewRequest(
        repo="r",
        commit="c",
        environment=env,
        target="t",
        dialect="postgres",
        migrations=[MigrationFile("db/V7__x.sql", sql.encode(), sidecar)],
        rollback_files=rollback_files,
    )
    return review(request, engine=engine)


ALTER = "ALTER TABLE accounts ADD COLUMN note text;\n"


def test_environment_not_allowed(engine: EmbeddedEngine) -> None:
    denied = check(engine, HEADER, env="production")
    assert "environment-not-allowed" in {f.rule for f in denied.findings}
    assert denied.decision == "deny"
    allowed = check(engine, HEADER, env="staging")
    assert "environment-not-allowed" not in {f.rule for f in allowed.findings}


def test_rollback_missing_until_declared_or_down_file(engine: EmbeddedEngine) -> None:
    def fired(result: ReviewResult) -> bool:
        return "rollback-missing" in {f.rule for f in result.findings}

    assert fired(check(engine, ALTER))
    assert not fired(check(engine, ALTER, rollback_files=("db/U7__x.sql",)))
    assert fired(check(engine, ALTER, rollback_files=("db/U8__other.sql",)))
    assert not fired(check(engine, ALTER, sidecar=b"rollback: transactional\n"))
    assert not fired(check(engine, "CREATE TABLE n (id bigint PRIMARY KEY);\n"))
