"""``sqlgate policy test|build``: the Rego policy tree from the command line.

``test [DIR]`` runs the Rego ``test_*`` rules, reported like ``opa test -v``: each test
prints one line with PASS, FAIL or ERROR, grouped by file, followed by the totals. Exit 0
only if every test passed and at least one ran; 1 otherwise (a policy tree that does not
compile is a failure too); 2 if the directory does not exist.

``build [DIR] -o FILE`` writes the tree as an OPA bundle (sqlgate.policy.opa_bundle) whose
revision is the policy digest, printed on stdout; ``--with-tests`` includes the tests;
``--signing-key KEY.pem`` adds ``.signatures.json`` as ``opa sign`` does (bundle_sign).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlgate.cli.main import EXIT_DENY, EXIT_OK, EXIT_USAGE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help="work with the Rego policy tree")
    actions = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    t = actions.add_parser("test", help="run the policy tests (test_* rules)")
    t.add_argument("dir", nargs="?", type=Path, help="policies directory (default: configured)")
    t.set_defaults(func=run_test)
    b = actions.add_parser("build", help="write the policy tree as an OPA bundle (.tar.gz)")
    b.add_argument("dir", nargs="?", type=Path, help="policies directory (default: configured)")
    b.add_argument("-o", "--output", type=Path, required=True, help="bundle file to write")
    b.add_argument("--with-tests", action="store_true", help="include the _test.rego files")
    b.add_argument(
        "--signing-key", type=Path, help="PEM private key (RSA: RS256, P-256: ES256) to sign with"
    )
    b.add_argument("--key-id", default="default", help="key id named in the signature")
    b.set_defaults(func=run_build)


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
    from sqlgate.errors import PolicyLoadError
    from sqlgate.policy.testing import run_policy_tests

    root: Path = args.dir or default_policies_dir()
    if not root.is_dir():
        print(f"sqlgate: error: {root}: policy directory not found", file=sys.stderr)
        return EXIT_USAGE
    try:
        results = run_policy_tests(root)
    except PolicyLoadError as exc:  # the tree under test is broken: the tests fail
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return EXIT_DENY
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


def run_build(args: argparse.Namespace) -> int:
    from sqlgate.config import default_policies_dir
    from sqlgate.policy.bundle import load_policy_set
    from sqlgate.policy.opa_bundle import bundle_files, write_tarball

    policy_set = load_policy_set(args.dir or default_policies_dir())
    if args.with_tests:
        policy_set.new_engine(with_tests=True)  # a broken test module is refused, not shipped
    files = bundle_files(policy_set, with_tests=args.with_tests)
    if args.signing_key is not None:
        from sqlgate.errors import InputError
        from sqlgate.policy.bundle_sign import sign_files
        from sqlgate.policy.opa_bundle import SIGNATURES

        try:
            key_pem = args.signing_key.read_bytes()
        except OSError as exc:
            raise InputError(f"{args.signing_key}: cannot read: {exc.strerror}") from exc
        try:
            signatures = sign_files(files, key_pem, args.key_id)
        except (ValueError, TypeError) as exc:
            raise InputError(f"{args.signing_key}: not a usable private key: {exc}") from exc
        files = sorted([*files, (SIGNATURES, signatures)])
    write_tarball(files, args.output)
    print(policy_set.digest)
    return EXIT_OK
