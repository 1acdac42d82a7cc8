"""Statements understood per corpus repository (issue 9 targets: PostgreSQL >= 99.5 %,
MySQL >= 97 %), and files a check would refuse (exit 2).

    .venv/bin/python bench/coverage.py [--dialect postgres|mysql] [--corpus DIR] [--json]

Each file is parsed as its own set (``sqlgate check`` on one file). A top-level statement
is understood when neither it nor anything it runs (CTE parts, DO blocks, called function
bodies) is ``unknown`` or opaque — the same measure as ``bench/corpus_parse.py``. Template
placeholders get a dummy value (``sqlgate check --var``); a file refused even so is an
input error (exit 2), listed by type.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

from sqlgate.errors import InputError
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.parse.placeholders import names
from sqlgate.parse.source import decode

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GOALS = {"postgres": 99.5, "mysql": 97.0}


def _file(path: Path, dialect: str) -> tuple[int, int, str | None]:
    """(top-level statements, understood, input error type or None) for one file."""
    source = SourceFile(str(path), path.read_bytes())
    try:
        variables = dict.fromkeys(names(decode(source)), "sqlgate_bench")
        result = parse_migrations([source], dialect, variables=variables)  # type: ignore[arg-type]
    except InputError as exc:
        return 0, 0, type(exc).__name__
    top = understood = 0
    group_ok = True
    for s in result.statements:
        bad = s.kind == "unknown" or bool(getattr(s, "opaque", False))
        if getattr(s, "via", None) is None:
            top += 1
            understood += not bad
            group_ok = not bad
        elif bad and group_ok:
            understood -= 1
            group_ok = False
    return top, understood, None


def run(dialect: str, root: Path) -> dict[str, Any]:
    repos: dict[str, dict[str, Any]] = {}
    for repo_dir in sorted(p for p in (root / dialect).iterdir() if p.is_dir()):
        top = understood = files = 0
        errors: collections.Counter[str] = collections.Counter()
        for path in sorted(p for p in repo_dir.rglob("*") if p.is_file()):
            files += 1
            t, u, err = _file(path, dialect)
            top, understood = top + t, understood + u
            if err:
                errors[err] += 1
        repos[repo_dir.name] = {
            "files": files,
            "statements": top,
            "understood": understood,
            "percent": round(100 * understood / top, 2) if top else 100.0,
            "input_errors": dict(errors),
        }
    total = sum(r["statements"] for r in repos.values())
    ok = sum(r["understood"] for r in repos.values())
    return {
        "dialect": dialect,
        "goal_percent": GOALS[dialect],
        "statements": total,
        "understood": ok,
        "percent": round(100 * ok / total, 2) if total else 100.0,
        "input_error_files": sum(sum(r["input_errors"].values()) for r in repos.values()),
        "repos": repos,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dialect", choices=["postgres", "mysql"], action="append")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    reports = [run(d, args.corpus) for d in args.dialect or ["postgres", "mysql"]]
    if args.json:
        print(json.dumps(reports, indent=2))
        return 0
    for r in reports:
        print(
            f"== {r['dialect']}: {r['understood']}/{r['statements']} top-level statements "
            f"understood ({r['percent']:.2f} %, goal {r['goal_percent']} %); "
            f"files refused (exit 2): {r['input_error_files']}"
        )
        for name, repo in r["repos"].items():
            errs = f"  refused: {repo['input_errors']}" if repo["input_errors"] else ""
            print(
                f"   {repo['percent']:6.2f} %  {repo['understood']:6d}/{repo['statements']:<6d} "
                f"{name} ({repo['files']} files){errs}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
