"""`opa test` for the policy tree, through regorus: every `test_*` rule of every _test.rego.

A test passes when its rule evaluates to true; it fails when it is false or undefined (a
failed `with input as` expectation makes the body undefined, exactly as in OPA) and errors
when the engine raises. Each test runs on a fresh clone of one prepared engine, so tests
cannot leak state into each other. Tests are returned in (package, name) order.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlgate.policy.bundle import PolicySet, load_policy_set
from sqlgate.policy.engine import engine_error_text

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class PolicyTestResult:
    """One Rego test's outcome: status is "pass", "fail" or "error"."""

    name: str
    package: str
    file: str
    status: str
    duration_s: float
    message: str = ""


def discover_tests(policy_set: PolicySet) -> list[tuple[str, str, str]]:
    """(package, test name, file) for every test rule, deduplicated and sorted."""
    found: set[tuple[str, str, str]] = set()
    for module in policy_set.tests:
        package = _PACKAGE.search(module.text)
        if package is None:
            continue  # the engine already refused a module without a package at load
        for name in _TEST_RULE.findall(module.text):
            found.add((package.group(1), name, module.path))
    return sorted(found)


def run_loaded_tests(policy_set: PolicySet) -> list[PolicyTestResult]:
    """Run every discovered test of an already loaded policy set."""
    prepared = policy_set.new_engine(with_tests=True)
    results = []
    for package, name, file in discover_tests(policy_set):
        engine = prepared.clone()
        started = time.perf_counter()
        status, message = "fail", ""
        try:
            value = json.loads(engine.eval_rule_as_json(f"data.{package}.{name}"))
            if value is True:
                status = "pass"
            else:
                message = f"evaluated to {value!r}"
        except Exception as exc:  # noqa: BLE001 - an engine error is the test result "error"
            status, message = "error", engine_error_text(exc)
        results.append(
            PolicyTestResult(
                name=name,
                package=package,
                file=file,
                status=status,
                duration_s=time.perf_counter() - started,
                message=message,
            )
        )
    return results


def run_policy_tests(root: Path) -> list[PolicyTestResult]:
    """Load the tree at `root` (PolicyLoadError if it does not compile) and run its tests."""
    return run_loaded_tests(load_policy_set(root))
