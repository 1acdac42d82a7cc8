"""The review use case over the real parser, the real policies and the embedded engine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlgate.errors import CatalogError, EncodingError, InputError, LimitExceeded, MetadataError
from sqlgate.parse import Limits
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import ENGINE_ERROR_RULE, MigrationFile, ReviewRequest, review

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "migrations"


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    e = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    yield e
    e.close()


def _request(files: list[MigrationFile], **kw: object) -> ReviewRequest:
    args: dict[str, object] = {
        "repo": "acme/shop",
        "commit": "abc123",
        "environment": "production",
        "target": "main-db",
        "dialect": "postgres",
        "migrations": files,
    }
    args.update(kw)
    return ReviewRequest(**args)  # type: ignore[arg-type]


def _examples() -> list[MigrationFile]:
    return [
        MigrationFile(f"examples/migrations/{p.name}", p.read_bytes())
        for p in sorted(EXAMPLES.glob("*.sql"))
    ]


def test_examples_need_approval_for_the_type_change(engine: EmbeddedEngine) -> None:
    result = review(_request(_examples()), engine=engine)
    assert result.decision == "needs_approval"
    rules = {(f.rule, f.file, f.line) for f in result.findings}
    assert ("column-type-change", "examples/migrations/V4__widen_invoice_amounts.sql", 4) in rules
    assert result.policy_digest == engine.policy_digest
    assert result.policy_digest.startswith("sha256:")
    assert result.files == [(m.path, hashlib.sha256(m.content).hexdigest()) for m in _examples()]
    # One statement per SQL statement: 1 + 2 + 2 + 1.
    assert result.statements == 6


def test_to_json_shape(engine: EmbeddedEngine) -> None:
    out = review(_request(_examples()), engine=engine).to_json()
    assert list(out) == [
        "decision",
        "findings",
        "statements",
        "policy_digest",
        "suppressions",
        "impact",
        "reviewed_files",
        "context_files",
        "server_version",
        "server_version_source",
    ]
    assert out["findings"]
    for f in out["findings"]:
        assert list(f) == ["rule", "level", "file", "line", "column", "message", "help"]
    json.dumps(out)


def test_safe_migration_is_allowed(engine: EmbeddedEngine) -> None:
    files = [MigrationFile("V1__t.sql", b"CREATE TABLE t (id bigint PRIMARY KEY);\n")]
    result = review(_request(files), engine=engine)
    assert (result.decision, result.findings, result.statements) == ("allow", [], 1)


def test_dev_environment_lowers_levels(engine: EmbeddedEngine) -> None:
    files = [MigrationFile("V1__x.sql", b"ALTER TABLE users ALTER COLUMN age TYPE bigint;\n")]
    prod = review(_request(files), engine=engine)
    dev = review(_request(files, environment="dev"), engine=engine)
    assert prod.decision == "needs_approval"
    assert dev.decision == "allow"
    assert [f.level for f in dev.findings if f.rule == "column-type-change"] == ["warn"]


def test_drop_table_position(engine: EmbeddedEngine) -> None:
    files = [MigrationFile("V9__drop.sql", b"-- bye\nSELECT 1;\n  DROP TABLE users;\n")]
    result = review(_request(files), engine=engine)
    drop = [f for f in result.findings if f.rule == "drop-table"]
    assert [(f.file, f.line, f.column, f.level) for f in drop] == [
        ("V9__drop.sql", 3, 3, "approval")
    ]


@pytest.mark.parametrize(
    ("kw", "files", "error", "message"),
    [
        ({"dialect": "oracle"}, None, InputError, "unknown dialect"),
        ({"environment": ""}, None, InputError, "environment is required"),
        ({"target": ""}, None, InputError, "target is required"),
        ({}, [], InputError, "no migration files"),
        (
            {},
            [MigrationFile("a.sql", b"SELECT 1;"), MigrationFile("a.sql", b"SELECT 2;")],
            InputError,
            "a.sql: submitted twice",
        ),
        ({}, [MigrationFile("bin.sql", b"SELECT \xff;")], EncodingError, "bin.sql"),
        (
            {},
            [MigrationFile("m.sql", b"SELECT 1;", b"owner: [unclosed\n")],
            MetadataError,
            "m.sql: sidecar metadata is not valid YAML",
        ),
        (
            {},
            [MigrationFile("m.sql", b"SELECT 1;", b"- a list\n")],
            MetadataError,
            "must be a mapping",
        ),
        ({"catalog": b"{not json"}, None, CatalogError, "not valid JSON"),
        ({"catalog": b'{"version": 99}'}, None, CatalogError, "unsupported catalog version"),
    ],
)
def test_bad_input_raises(
    engine: EmbeddedEngine,
    kw: dict[str, object],
    files: list[MigrationFile] | None,
    error: type[Exception],
    message: str,
) -> None:
    if files is None:
        files = [MigrationFile("V1__ok.sql", b"SELECT 1;\n")]
    with pytest.raises(error, match=message):
        review(_request(files, **kw), engine=engine)


def test_limits_are_enforced(engine: EmbeddedEngine) -> None:
    files = [MigrationFile(f"V{i}__x.sql", b"SELECT 1;\n") for i in range(3)]
    with pytest.raises(LimitExceeded, match="3 files"):
        review(_request(files), engine=engine, limits=Limits(max_files=2))
    big = [MigrationFile("V1__big.sql", b"SELECT 1;\n" * 100)]
    with pytest.raises(LimitExceeded, match=r"V1__big\.sql"):
        review(_request(big), engine=engine, limits=Limits(max_file_bytes=100))


def _policy_tree(tmp_path: Path, main: str) -> Path:
    root = tmp_path / "policies"
    root.mkdir()
    (root / "main.rego").write_text(main)
    return root


def test_engine_failure_is_a_deny(tmp_path: Path) -> None:
    """A policy tree whose result is undefined makes the real engine fail: deny."""
    root = _policy_tree(
        tmp_path, 'package sqlgate.main\n\nresult := {"decision": "allow"} if { false }\n'
    )
    broken = EmbeddedEngine(load_policy_set(root))
    try:
        files = [MigrationFile("V1__t.sql", b"CREATE TABLE t (id int);\n")]
        result = review(_request(files), engine=broken)
    finally:
        broken.close()
    assert result.decision == "deny"
    assert [(f.rule, f.level) for f in result.findings] == [(ENGINE_ERROR_RULE, "deny")]
    assert "undefined" in result.findings[0].message


def test_malformed_policy_result_is_a_deny(tmp_path: Path) -> None:
    """A policy that answers 'allow' while reporting a deny finding is refused: deny."""
    root = _policy_tree(
        tmp_path,
        "package sqlgate.main\n\n"
        'result := {"decision": "allow", "findings": [{"rule": "x", "level": "deny", '
        '"statement": 0, "file": "f", "line": 1, "column": 1, "message": "m", "help": ""}]}\n',
    )
    odd = EmbeddedEngine(load_policy_set(root))
    try:
        files = [MigrationFile("V1__t.sql", b"SELECT 1;\n")]
        result = review(_request(files), engine=odd)
    finally:
        odd.close()
    assert result.decision == "deny"
    assert result.findings[0].rule == ENGINE_ERROR_RULE


def test_policy_input_matches_the_schema() -> None:
    """The input review builds validates against policies/schema/input.json."""
    import jsonschema
    from sqlgate.facts import derive
    from sqlgate.parse import SourceFile, parse_migrations
    from sqlgate.review import build_policy_input

    request = _request(_examples())
    parsed = parse_migrations(
        [SourceFile(m.path, m.content) for m in request.migrations], "postgres"
    )
    derived = derive(parsed.statements)
    doc = build_policy_input(
        request,
        files=[
            {"path": f.path, "sha256": f.sha256, "statements": f.statements, "metadata": {}}
            for f in parsed.files
        ],
        statements=[s.to_json() for s in derived.statements],
        facts=derived.to_json(),
        catalog=None,
    )
    schema = json.loads((ROOT / "policies" / "schema" / "input.json").read_text())
    jsonschema.validate(doc, schema)
