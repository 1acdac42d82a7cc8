"""Squawk 2.70 vs sqlgate on the same real-world PostgreSQL migrations, rule by rule.

Runs Squawk (``--reporter json``, default rules, default PostgreSQL version) over every
file of the corpus in one process, and sqlgate in-process (``sqlgate.review.review`` with
the embedded engine, production levels, no server version: the strictest assumptions),
one review per file. A finding is keyed by (file, line of the statement's first token,
rule); Squawk's line (0-based, anywhere inside the statement) is moved to the start line
of the sqlgate statement that contains it, and its rule is translated with ``SQUAWK_MAP``.
For each Squawk rule the script prints how many keys both tools report, only Squawk, only
sqlgate; then totals and the wall time of each tool. See docs/rules.md "Squawk comparison".
"""

from __future__ import annotations

import argparse
import bisect
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlgate.errors import SqlgateError
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, review

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "postgres"

# Squawk 2.70 default rule -> the sqlgate rule ids that cover its condition (empty: not
# covered; docs/rules.md says why).
SQUAWK_MAP: dict[str, tuple[str, ...]] = {
    "adding-field-with-default": ("volatile-default", "add-column-default-rewrite"),
    "adding-foreign-key-constraint": ("fk-not-valid-missing",),
    "adding-not-nullable-field": ("set-not-null",),
    "adding-required-field": ("add-required-column",),
    "adding-serial-primary-key-field": ("add-primary-key-without-index",),
    "ban-alter-domain-with-add-constraint": ("alter-domain-add-constraint",),
    "ban-alter-identity": ("alter-identity",),
    "ban-char-field": ("char-column",),
    "ban-concurrent-index-creation-in-transaction": ("concurrent-index-in-transaction",),
    "ban-create-domain-with-constraint": ("create-domain-with-constraint",),
    "ban-drop-column": ("drop-column",),
    "ban-drop-constraint": ("drop-constraint",),
    "ban-drop-database": ("drop-database",),
    "ban-drop-default": ("drop-default",),
    "ban-drop-domain": ("drop-object",),
    "ban-drop-extension": ("drop-object",),
    "ban-drop-function": ("drop-object",),
    "ban-drop-generated-expression": ("drop-default",),
    "ban-drop-not-null": ("drop-not-null",),
    "ban-drop-schema": ("drop-schema",),
    "ban-drop-sequence": ("drop-object",),
    "ban-drop-table": ("drop-table",),
    "ban-drop-type": ("drop-object",),
    "ban-drop-view": ("drop-object",),
    "ban-duplicate-column-assignments": (),
    "ban-set-schema": ("set-schema",),
    "ban-truncate-cascade": ("truncate-cascade",),
    "ban-uncommitted-transaction": ("uncommitted-transaction",),
    "changing-column-type": ("column-type-change",),
    "constraint-missing-not-valid": ("check-not-valid-missing", "fk-not-valid-missing"),
    "disallowed-unique-constraint": ("unique-constraint-without-index",),
    "identifier-too-long": ("identifier-too-long",),
    "prefer-bigint-over-int": ("prefer-bigint",),
    "prefer-bigint-over-smallint": ("prefer-bigint",),
    "prefer-identity": ("prefer-identity",),
    "prefer-repack": (),
    "prefer-robust-stmts": ("retry-unsafe-ddl",),
    "prefer-text-field": ("varchar-column",),
    "prefer-timestamp-tz": ("timestamp-without-tz",),
    "renaming-column": ("rename-column",),
    "renaming-object": ("rename-object",),
    "renaming-table": ("rename-table",),
    "require-concurrent-index-creation": ("index-not-concurrent",),
    "require-concurrent-index-deletion": ("drop-index-not-concurrent",),
    "require-concurrent-partition-detach": ("detach-partition-not-concurrent",),
    "require-concurrent-reindex": ("reindex-not-concurrent",),
    "require-enum-value-ordering": (),
    "require-lock-timeout": ("lock-timeout-missing",),
    "require-statement-timeout": ("statement-timeout-missing",),
    "transaction-nesting": ("transaction-nesting",),
}

Key = tuple[str, int, str]  # (file, statement start line, squawk rule)


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.sql") if p.is_file())


def run_squawk(
    squawk: str, files: list[Path], chunk: int = 500
) -> tuple[list[dict[str, Any]], float]:
    """Squawk's JSON findings for ``files`` (in chunks, for the argument limit) and wall time."""
    out: list[dict[str, Any]] = []
    start = time.perf_counter()
    for i in range(0, len(files), chunk):
        proc = subprocess.run(
            [squawk, "--reporter", "json", *map(str, files[i : i + chunk])],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode not in (0, 1) or not proc.stdout.strip().startswith("["):
            raise SystemExit(f"squawk failed ({proc.returncode}): {proc.stderr[:500]}")
        out.extend(json.loads(proc.stdout))
    return out, time.perf_counter() - start


def statement_starts(path: Path) -> list[tuple[int, int]]:
    """(start line, end line) of each statement sqlgate's parser finds in ``path``."""
    parsed = parse_migrations([SourceFile(str(path), path.read_bytes())], "postgres")
    return sorted({(s.line, s.end_line) for s in parsed.statements})


def start_line(spans: list[tuple[int, int]], line: int) -> int:
    """The start line of the statement that contains ``line`` (or ``line`` itself)."""
    i = bisect.bisect_right(spans, (line, 10**9)) - 1
    return spans[i][0] if i >= 0 and spans[i][0] <= line <= spans[i][1] else line


def run_sqlgate(files: list[Path]) -> tuple[dict[str, list[tuple[int, str]]], Counter[str], float]:
    """{file: [(line, rule)]}, failure reasons, wall time (policy load included)."""
    start = time.perf_counter()
    engine = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    found: dict[str, list[tuple[int, str]]] = {}
    failures: Counter[str] = Counter()
    try:
        for f in files:
            try:
                result = review(
                    ReviewRequest(
                        repo="corpus",
                        commit="-",
                        environment="production",
                        target="corpus",
                        dialect="postgres",
                        migrations=[MigrationFile(str(f), f.read_bytes())],
                    ),
                    engine=engine,
                )
            except SqlgateError as exc:
                failures[type(exc).__name__] += 1
                continue
            found[str(f)] = [(x.line, x.rule) for x in result.findings]
    finally:
        engine.close()
    return found, failures, time.perf_counter() - start


def compare(
    squawk: Iterable[dict[str, Any]], sqlgate: dict[str, list[tuple[int, str]]]
) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Per Squawk rule: Counter of both / only_squawk; per sqlgate id: only_sqlgate.

    A Squawk finding is matched when sqlgate reports one of the rule's mapped ids on the
    same statement; a sqlgate finding (of a mapped id) is matched when Squawk reports any
    rule mapped to that id on the same statement.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    sg_keys = {(path, line, rule) for path, items in sqlgate.items() for line, rule in items}
    per: dict[str, Counter[str]] = {r: Counter() for r in SQUAWK_MAP}
    covered: set[tuple[str, int, str]] = set()
    for v in squawk:
        path = str(v["file"])
        if path not in sqlgate:  # sqlgate refused the file: counted separately
            continue
        if path not in spans:
            spans[path] = statement_starts(Path(path))
        line = start_line(spans[path], int(v["line"]) + 1)
        rule = str(v["rule_name"])
        ids = SQUAWK_MAP.get(rule, ())
        hit = any((path, line, i) in sg_keys for i in ids)
        covered.update((path, line, i) for i in ids)
        per.setdefault(rule, Counter())["both" if hit else "only_squawk"] += 1
    mapped = {i for ids in SQUAWK_MAP.values() for i in ids}
    only_sqlgate: Counter[str] = Counter(
        k[2] for k in sg_keys if k[2] in mapped and k not in covered
    )
    return per, only_sqlgate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument(
        "--squawk", default=shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    )
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    files = corpus_files(args.corpus)
    sq, sq_time = run_squawk(args.squawk, files)
    sg, failures, sg_time = run_sqlgate(files)
    per, only_sg = compare(sq, sg)
    print(
        f"{len(files)} files; sqlgate reviewed {len(sg)}, "
        f"refused {sum(failures.values())} {dict(failures)}"
    )
    print(f"{'squawk rule':45} {'both':>6} {'squawk':>7} {'sqlgate':>8}  sqlgate ids")
    total: Counter[str] = Counter()
    owners: Counter[str] = Counter(i for ids in SQUAWK_MAP.values() for i in ids)
    for rule in sorted(per):
        c = per[rule]
        ids = SQUAWK_MAP.get(rule, ())
        # sqlgate-only findings of an id that only this Squawk rule maps to
        c["only_sqlgate"] = sum(only_sg[i] for i in ids if owners[i] == 1)
        total.update(c)
        names = ", ".join(ids) or "(not covered)"
        print(f"{rule:45} {c['both']:6} {c['only_squawk']:7} {c['only_sqlgate']:8}  {names}")
    for i in sorted(i for i in owners if owners[i] > 1):
        total["only_sqlgate"] += only_sg[i]
        print(
            f"{'  (shared) ' + i:45} {'':6} {'':7} {only_sg[i]:8}"
            "  only-sqlgate, several Squawk rules"
        )
    print(f"{'TOTAL':45} {total['both']:6} {total['only_squawk']:7} {total['only_sqlgate']:8}")
    print(
        f"wall time: squawk {sq_time:.2f} s, sqlgate {sg_time:.2f} s "
        f"(ratio {sg_time / sq_time:.1f}x)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "files": len(files),
                    "reviewed": len(sg),
                    "refused": dict(failures),
                    "per_rule": {r: dict(c) for r, c in sorted(per.items())},
                    "only_sqlgate_by_id": dict(only_sg),
                    "total": dict(total),
                    "squawk_s": sq_time,
                    "sqlgate_s": sg_time,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
