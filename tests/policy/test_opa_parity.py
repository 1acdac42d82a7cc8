"""The shipped policies decide the same under regorus (what sqlgate runs) and real OPA:
0.61 as a server process (``opa run --server`` on the bundle `sqlgate policy build`
writes) and 1.20.2 in-process (opa-golib-python-bindings).

Inputs: every rule folder's bad.sql and good.sql, a fixed sample of the shared corpus (each
file reviewed on its own, with the review's own input builder), and hand-made inputs for
the places the engines used to disagree — a statement with no ``kind`` (OPA failed open on
``not s.kind in ...``) and server versions with leading zeros (regorus refused
``to_number("016")``, OPA read 16). Equal means the same decision, findings (rule, level,
position, message, help, approver) and suppressions, in the same order.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from opa_tools import opa_bindings, opa_server
from sqlgate.errors import PolicyError
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import PolicyResult, parse_result
from sqlgate.policy.opa_bundle import bundle_files, write_tarball

from .inputs import policy_input, stmt
from .test_fixtures import RULE_DIRS, _input

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
# Every CORPUS_STEP-th file of the manifest (dialects interleaved by path order): ~60 files.
CORPUS_STEP = 100


@pytest.fixture(scope="module")
def opa_061(policy_set: PolicySet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("opa-parity")
    write_tarball(bundle_files(policy_set), tmp / "bundle.tar.gz")
    with opa_server(["--bundle", str(tmp / "bundle.tar.gz")], tmp) as server:
        yield server.url + "/v1/data/sqlgate/main/result"


@pytest.fixture(scope="module")
def opa_120(policy_set: PolicySet) -> Iterator[Any]:
    engine = opa_bindings().OpaEngine()
    for module in policy_set.modules:
        engine.add_policy(module.path, module.text)
    engine.add_data(policy_set.data)
    yield engine
    engine.close()


def _regorus(engine: EmbeddedEngine, doc: dict[str, Any]) -> PolicyResult | str:
    try:
        return engine.evaluate(doc)
    except PolicyError as exc:
        return f"error: {type(exc).__name__}"


def _via_061(url: str, doc: dict[str, Any]) -> PolicyResult | str:
    answer = requests.post(url, json={"input": doc}, timeout=120)
    if answer.status_code != 200 or "result" not in answer.json():
        return f"error: {answer.status_code} {answer.text[:300]}"
    try:
        return parse_result(answer.json()["result"])
    except PolicyError as exc:
        return f"error: {type(exc).__name__}"


def _via_120(engine: Any, doc: dict[str, Any]) -> PolicyResult | str:
    try:
        raw = engine.eval_document("sqlgate.main.result", doc)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {str(exc)[:300]}"
    try:
        return parse_result(raw)
    except PolicyError as exc:
        return f"error: {type(exc).__name__}"


def _assert_same(
    engine: EmbeddedEngine, opa_061: str, opa_120: Any, doc: dict[str, Any], what: str
) -> PolicyResult | str:
    regorus = _regorus(engine, doc)
    assert _via_061(opa_061, doc) == regorus, f"{what}: OPA 0.61 differs from regorus"
    assert _via_120(opa_120, doc) == regorus, f"{what}: OPA 1.20 differs from regorus"
    return regorus


@pytest.mark.parametrize("rule_dir", RULE_DIRS, ids=lambda p: p.name)
def test_rule_fixtures(engine: EmbeddedEngine, opa_061: str, opa_120: Any, rule_dir: Path) -> None:
    for name in ("bad.sql", "good.sql"):
        result = _assert_same(engine, opa_061, opa_120, _input(rule_dir / name), name)
        assert isinstance(result, PolicyResult), f"{rule_dir.name}/{name}: {result}"


def _corpus_sample() -> list[tuple[str, str]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    rows = [line.split("\t") for line in manifest.read_text().splitlines()[1:]]
    return [(row[0], row[5]) for row in rows[::CORPUS_STEP]]


def test_corpus_sample(engine: EmbeddedEngine, opa_061: str, opa_120: Any) -> None:
    from sqlgate.errors import InputError
    from sqlgate.review import MigrationFile, ReviewRequest, prepare_input

    sample = _corpus_sample()
    if not sample:
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus required under CI=true at {CORPUS}")
        pytest.skip(f"corpus not present at {CORPUS}")
    decided = 0
    decisions: set[str] = set()
    for dialect, rel in sample:
        request = ReviewRequest(
            repo="",
            commit="",
            environment="production",
            target="corpus",
            dialect="mysql" if dialect == "mysql" else "postgres",
            migrations=[MigrationFile(rel, (CORPUS / rel).read_bytes())],
            catalog=None,
        )
        try:
            doc = prepare_input(request).policy_input
        except InputError:
            continue  # refused before policy (e.g. a file that does not parse): no decision
        result = _assert_same(engine, opa_061, opa_120, doc, rel)
        assert isinstance(result, PolicyResult), f"{rel}: {result}"
        decided += 1
        decisions.add(result.decision)
    assert decided >= len(sample) * 3 // 4, f"only {decided} of {len(sample)} reached the policy"
    assert decisions == {"allow", "needs_approval", "deny"}


def _without_kind() -> dict[str, Any]:
    doc = policy_input([stmt("create_table", 0), stmt("drop_table", 1)])
    del doc["statements"][0]["kind"]
    return doc


def _with_version(version: str) -> dict[str, Any]:
    doc = policy_input(
        [stmt("alter_type_add_value", 0, in_transaction=True, type="mood", value="meh")]
    )
    doc["server_version"] = version
    return doc


@pytest.mark.parametrize(
    "version", ["016", "PostgreSQL 09.6", "000", "0011.2", "PostgreSQL 16.2", "90600"]
)
def test_server_versions(engine: EmbeddedEngine, opa_061: str, opa_120: Any, version: str) -> None:
    result = _assert_same(engine, opa_061, opa_120, _with_version(version), version)
    assert isinstance(result, PolicyResult), f"{version}: {result}"


def test_leading_zeros_read_as_the_number(engine: EmbeddedEngine) -> None:
    """ "09.6" is 9.6 (before 12: ADD VALUE in a transaction fails), "016" is 16."""
    old = engine.evaluate(_with_version("PostgreSQL 09.6"))
    new = engine.evaluate(_with_version("016"))
    assert "enum-value-in-transaction" in {f.rule for f in old.findings}
    assert "enum-value-in-transaction" not in {f.rule for f in new.findings}


def test_statement_without_kind_is_unrecognized_everywhere(
    engine: EmbeddedEngine, opa_061: str, opa_120: Any
) -> None:
    result = _assert_same(engine, opa_061, opa_120, _without_kind(), "no kind")
    assert isinstance(result, PolicyResult)
    flagged = [f for f in result.findings if f.rule == "unrecognized-statement"]
    assert [f.statement for f in flagged] == [0]


def test_statement_with_null_or_odd_kind(
    engine: EmbeddedEngine, opa_061: str, opa_120: Any
) -> None:
    for kind in (None, 7, "", "CREATE_TABLE"):
        doc = copy.deepcopy(_without_kind())
        doc["statements"][0]["kind"] = kind
        result = _assert_same(engine, opa_061, opa_120, doc, f"kind {kind!r}")
        assert isinstance(result, PolicyResult)
        assert 0 in {f.statement for f in result.findings if f.rule == "unrecognized-statement"}
