"""EmbeddedEngine and the policy bundle: results, errors fail closed, timeout, digest, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlgate.errors import PolicyEvaluationError, PolicyLoadError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet, load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.engine import PolicyFinding, PolicyResult, parse_result

from .conftest import POLICIES
from .inputs import policy_input, stmt


def _main_tree(tmp_path: Path, body: str) -> PolicySet:
    (tmp_path / "main.rego").write_text("package sqlgate.main\n\nimport rego.v1\n\n" + body)
    return load_policy_set(tmp_path)


def _evaluate(tmp_path: Path, body: str, **kwargs: float) -> PolicyResult:
    eng = EmbeddedEngine(_main_tree(tmp_path, body), **kwargs)
    try:
        return eng.evaluate(policy_input([stmt("select")]))
    finally:
        eng.close()


def test_evaluates_the_shipped_policies(engine: EmbeddedEngine) -> None:
    result = engine.evaluate(
        policy_input([stmt("create_table", 0), stmt("drop_table", 1, line=4, tables=["users"])])
    )
    assert result.decision == "needs_approval"
    assert result.findings == [
        PolicyFinding(
            rule="drop-table",
            level="approval",
            statement=1,
            file="migrations/001.sql",
            line=4,
            column=1,
            message="DROP TABLE users deletes the table and all of its data",
            help=result.findings[0].help,
        )
    ]
    assert engine.evaluate(policy_input([stmt("create_table")])).decision == "allow"


def test_undefined_result_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyEvaluationError, match="undefined"):
        _evaluate(tmp_path, "result := 1 if false\n")


def test_runtime_error_is_an_evaluation_error(tmp_path: Path) -> None:
    body = 'result := {"decision": "allow", "findings": [to_number("x")]}\n'
    with pytest.raises(PolicyEvaluationError, match="policy evaluation failed") as info:
        _evaluate(tmp_path, body)
    assert "Stack backtrace" not in str(info.value)


def test_conflicting_rule_values_are_an_evaluation_error(tmp_path: Path) -> None:
    body = 'result := {"decision": "allow", "findings": []}\n\nresult := {"decision": "deny"}\n'
    with pytest.raises(PolicyEvaluationError, match="conflict"):
        _evaluate(tmp_path, body)


@pytest.mark.parametrize(
    "result",
    [
        '"allow"',
        '{"decision": "maybe", "findings": []}',
        '{"decision": "allow"}',
        '{"decision": "allow", "findings": [{"rule": "x"}]}',
        '{"decision": "allow", "findings": [{"rule": "x", "level": "fatal", "statement": 0,'
        ' "file": "f", "line": 1, "column": 1, "message": "m", "help": "h"}]}',
        '{"decision": "allow", "findings": [{"rule": "x", "level": "warn", "statement": true,'
        ' "file": "f", "line": 1, "column": 1, "message": "m", "help": "h"}]}',
        '{"decision": "allow", "findings": [{"rule": "x", "level": "warn", "statement": 0,'
        ' "file": null, "line": null, "column": null, "message": "m", "help": "h"}]}',
    ],
)
def test_malformed_results_are_refused(tmp_path: Path, result: str) -> None:
    with pytest.raises(PolicyEvaluationError, match=r"malformed|not an object"):
        _evaluate(tmp_path, f"result := {result}\n")


def test_decision_must_match_findings(tmp_path: Path) -> None:
    finding = (
        '{"rule": "x", "level": "deny", "statement": 0, "file": "f", "line": 1,'
        ' "column": 1, "message": "m", "help": "h"}'
    )
    with pytest.raises(PolicyEvaluationError, match="inconsistent"):
        _evaluate(tmp_path, f'result := {{"decision": "allow", "findings": [{finding}]}}\n')


def test_parse_result_accepts_the_contract_shape() -> None:
    raw = {"decision": "allow", "findings": []}
    assert parse_result(raw) == PolicyResult(decision="allow", findings=[])


def test_input_that_is_not_json_is_refused(engine: EmbeddedEngine) -> None:
    with pytest.raises(PolicyEvaluationError, match="not JSON"):
        engine.evaluate({"statements": [float("nan")]})


def test_timeout_is_raised_and_is_an_evaluation_error(tmp_path: Path) -> None:
    # ~1 s of work against a 50 ms budget: regorus cannot be interrupted, the late result
    # is discarded and the caller gets PolicyTimeout (a subclass of PolicyEvaluationError).
    body = (
        "n := count([i | some i in numbers.range(1, 3000000); i % 7 == 0])\n\n"
        'result := {"decision": "allow", "findings": []} if n > 0\n'
    )
    with pytest.raises(PolicyTimeout):
        _evaluate(tmp_path, body, timeout_s=0.05)
    assert issubclass(PolicyTimeout, PolicyEvaluationError)


def test_concurrent_evaluations_do_not_mix(engine: EmbeddedEngine) -> None:
    """Many threads, distinct inputs: each answer belongs to its own input (clone per call)."""

    def one(i: int) -> tuple[int, PolicyResult]:
        statements = [stmt("drop_table", j, tables=[f"t{i}_{j}"]) for j in range(i % 5)]
        return i, engine.evaluate(policy_input(statements))

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one, range(200)))
    for i, result in outcomes:
        assert len(result.findings) == i % 5
        assert result.decision == ("needs_approval" if i % 5 else "allow")
        assert [f.message.split()[2] for f in result.findings] == [
            f"t{i}_{j}" for j in range(i % 5)
        ]


def test_engine_built_on_another_thread_is_usable(policy_set: PolicySet) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        eng = pool.submit(EmbeddedEngine, policy_set).result()
    try:
        assert eng.evaluate(policy_input([stmt("truncate", tables=["x"])])).decision == (
            "needs_approval"
        )
        assert eng.policy_digest == policy_set.digest
    finally:
        eng.close()


# ---- bundle: loading and digest ----


def test_digest_is_stable(policy_copy: Path, policy_set: PolicySet) -> None:
    assert load_policy_set(policy_copy).digest == policy_set.digest
    assert policy_set.digest.startswith("sha256:")
    assert len(policy_set.digest) == len("sha256:") + 64


def test_digest_changes_on_policy_or_data_edit(policy_copy: Path, policy_set: PolicySet) -> None:
    levels = policy_copy / "data" / "levels.yaml"
    levels.write_text(levels.read_text() + "\n# edited\n")
    after_data = load_policy_set(policy_copy).digest
    assert after_data != policy_set.digest
    rule = policy_copy / "rules" / "compat" / "rename-table" / "rename_table.rego"
    rule.write_text(rule.read_text().replace("breaks code", "may break code"))
    assert load_policy_set(policy_copy).digest not in (policy_set.digest, after_data)


def test_digest_ignores_tests_and_docs(policy_copy: Path, policy_set: PolicySet) -> None:
    test = policy_copy / "rules" / "compat" / "rename-table" / "rename_table_test.rego"
    test.write_text(test.read_text() + "\ntest_extra if true\n")
    (policy_copy / "rules" / "compat" / "rename-table" / "README.md").write_text("changed")
    reloaded = load_policy_set(policy_copy)
    assert reloaded.digest == policy_set.digest
    assert len(reloaded.tests) == len(policy_set.tests)


def test_tests_are_kept_apart(policy_set: PolicySet) -> None:
    assert policy_set.tests
    assert all(m.path.endswith("_test.rego") for m in policy_set.tests)
    assert not any(m.path.endswith("_test.rego") for m in policy_set.modules)
    on_disk = sorted(
        str(f.relative_to(POLICIES)) for f in (POLICIES / "data").iterdir() if f.suffix == ".yaml"
    )
    assert list(policy_set.data_files) == on_disk
    assert "data/levels.yaml" in on_disk
    assert "defaults" in policy_set.data["sqlgate"]["config"]["levels"]


def test_syntax_error_names_the_file(policy_copy: Path) -> None:
    bad = policy_copy / "rules" / "destructive" / "truncate" / "truncate.rego"
    bad.write_text(bad.read_text() + "\nreport contains x if {\n")
    with pytest.raises(PolicyLoadError, match=r"rules/destructive/truncate/truncate\.rego"):
        load_policy_set(policy_copy)


def test_malformed_data_names_the_file(policy_copy: Path) -> None:
    (policy_copy / "data" / "levels.yaml").write_text("defaults: [unclosed\n")
    with pytest.raises(PolicyLoadError, match=r"data/levels\.yaml"):
        load_policy_set(policy_copy)


def test_missing_tree_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError):
        load_policy_set(tmp_path / "nope")
    with pytest.raises(PolicyLoadError, match=r"no \.rego"):
        load_policy_set(tmp_path)
