"""``sqlgate policy test [DIR]``: run the Rego ``test_*`` rules, reported like ``opa test -v``.

Each test prints one line with PASS, FAIL or ERROR, grouped by file, followed by the
totals. Exit 0 only if every test passed and at least one ran; 1 otherwise (a policy
tree that does not compile is a failure too, reported by the CLI's error handler).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from sqlgate.cli.main import EXIT_DENY, EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help="work with the Rego policy tree")
    actions = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    t = actions.add_parser("test", help="run the policy tests (test_* rules)")
    t.add_argument("dir", nargs="?", type=Path, help="policies directory (default: configured)")
    t.set_defaults(func=run_test)


def format_results(results: Sequence[object]) -> list[str]:
    from sqlgate.policy.testing import PolicyTestResult

    lines: list[str] = []
    current = None
    for r in results:
        assert isinstance(r, PolicyTestResult)
        if r.file != current:
            if current is not None:
                lines.append("")
            lines.append(f"{r.file}:")
            current = r.file
        line = f"data.{r.package}.{r.name}: {r.status.upper()} ({r.duration_s * 1000:.3f}ms)"
        if r.message:
            line += f"\n  {r.message}"
        lines.append(line)
    return lines


def run_test(args: argparse.Namespace) -> int:
    from sqlgate.config import default_policies_dir
    from sqlgate.policy.testing import run_policy_tests

    root: Path = args.dir or default_policies_dir()
    results = run_policy_tests(root)
    for line in format_results(results):
        print(line)
    total = len(results)
    counts = {s: sum(1 for r in results if r.status == s) for s in ("pass", "fail", "error")}
    print("-" * 80)
    if counts["pass"]:
        print(f"PASS: {counts['pass']}/{total}")
    if counts["fail"]:
        print(f"FAIL: {counts['fail']}/{total}")
    if counts["error"]:
        print(f"ERROR: {counts['error']}/{total}")
    if total == 0:
        print(f"no tests found in {root}")
        return EXIT_DENY
    return EXIT_OK if counts["pass"] == total else EXIT_DENY
