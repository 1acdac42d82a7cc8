"""Every Rego `test_*` rule of policies/ runs as its own pytest case, through regorus."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate.errors import PolicyLoadError
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.testing import discover_tests, run_policy_tests

from .conftest import POLICIES

_SET = load_policy_set(POLICIES)
_RESULTS = {(r.package, r.name): r for r in run_policy_tests(POLICIES)}


def test_tree_has_rego_tests() -> None:
    # one test file per rule folder plus main's and the repository layering's
    # (repos_test.rego): a tree that lost its tests must not pass
    rule_dirs = [p for p in (POLICIES / "rules").glob("*/*") if p.is_dir()]
    assert len(rule_dirs) >= 19
    packages = {pkg for pkg, _ in _RESULTS}
    assert {"sqlgate.main_test", "sqlgate.repos_test"} <= packages
    assert len(packages) == len(rule_dirs) + 2
    assert len(_RESULTS) >= 2 * len(rule_dirs)


@pytest.mark.parametrize(("package", "name"), [(p, n) for p, n, _ in discover_tests(_SET)], ids=str)
def test_rego(package: str, name: str) -> None:
    result = _RESULTS[(package, name)]
    assert result.status == "pass", f"{result.file}: {result.message}"


def _tree(tmp_path: Path, test_body: str) -> Path:
    (tmp_path / "p.rego").write_text("package demo\n\nimport rego.v1\n\nx := 2\n")
    (tmp_path / "p_test.rego").write_text(
        "package demo_test\n\nimport rego.v1\n\nimport data.demo\n\n" + test_body
    )
    return tmp_path


def test_runner_reports_pass_fail_and_error(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        "test_ok if demo.x == 2\n\n"
        "test_wrong if demo.x == 3\n\n"
        'test_boom if to_number("not a number") == 1\n',
    )
    results = {r.name: r for r in run_policy_tests(root)}
    assert results["test_ok"].status == "pass"
    assert results["test_wrong"].status == "fail"
    assert results["test_boom"].status == "error"
    assert results["test_boom"].message
    assert all(r.package == "demo_test" and r.file == "p_test.rego" for r in results.values())
    assert [r.name for r in run_policy_tests(root)] == sorted(results)


def test_runner_refuses_a_test_file_that_does_not_compile(tmp_path: Path) -> None:
    root = _tree(tmp_path, "test_broken if {\n")
    with pytest.raises(PolicyLoadError, match=r"p_test\.rego"):
        run_policy_tests(root)
