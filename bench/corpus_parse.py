"""Parse the real-world corpus and report counts, unknown rate and throughput.

    .venv/bin/python bench/corpus_parse.py [--dialect postgres|mysql] [--fill-placeholders]

Each file is parsed as its own migration set (as ``sqlgate check`` on one file would).
Files with template placeholders are refused without values (PlaceholderError, counted);
``--fill-placeholders`` supplies a dummy value for every placeholder so they are measured
too. Figures: files, statements (SQL statements), model statements per kind, unknown
rate with the top reasons, input errors by type, and statements/s (wall clock, one core).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from sqlgate.errors import InputError
from sqlgate.parse import SourceFile, parse_migrations
from sqlgate.parse.placeholders import names
from sqlgate.parse.source import decode

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def run(dialect: str, root: Path, fill: bool, top_n: int) -> None:
    files = sorted(p for p in (root / dialect).rglob("*") if p.is_file())
    kinds: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    sql_statements = 0
    opaque = top = top_understood = inner = inner_unknown = 0
    elapsed = 0.0
    for path in files:
        source = SourceFile(str(path), path.read_bytes())
        variables = None
        if fill:
            try:
                variables = dict.fromkeys(names(decode(source)), "sqlgate_bench")
            except InputError:
                variables = None
        start = time.perf_counter()
        try:
            result = parse_migrations([source], dialect, variables=variables)  # type: ignore[arg-type]
        except InputError as exc:
            elapsed += time.perf_counter() - start
            errors[type(exc).__name__] += 1
            continue
        elapsed += time.perf_counter() - start
        sql_statements += result.statement_count
        group_ok = True
        for s in result.statements:
            kinds[s.kind] += 1
            if s.kind == "unknown":
                reasons[str(s.to_json()["reason"])[:90]] += 1
            elif s.opaque:
                opaque += 1
            bad = s.kind == "unknown" or s.opaque
            if (
                getattr(s, "via", None) is None
            ):  # a top-level statement: understood if it and all it runs are
                top += 1
                top_understood += not bad
                group_ok = not bad
            else:
                inner += 1
                inner_unknown += bad
                if bad and group_ok:
                    top_understood -= 1
                    group_ok = False
    model = sum(kinds.values())
    print(
        f"== {dialect}: {len(files)} files, {sql_statements} SQL statements, "
        f"{model} model statements"
    )
    print(f"   parse time {elapsed:.2f} s, {sql_statements / elapsed:,.0f} statements/s, "
          f"{len(files) / elapsed:,.0f} files/s")  # fmt: skip
    print(f"   input errors: {dict(errors) or 'none'}")
    unknown = kinds.get("unknown", 0)
    print(f"   unknown: {unknown} ({100 * unknown / max(model, 1):.2f} % of model statements)")
    for reason, n in reasons.most_common(top_n):
        print(f"     {n:6d}  {reason}")
    print(f"   opaque (not unknown): {opaque}")
    print(
        f"   understood (not unknown, not opaque, nor anything it runs): {top_understood} of "
        f"{top} top-level model statements ({100 * top_understood / max(top, 1):.2f} %); "
        f"{inner} more from CTEs, DO blocks and called function bodies, {inner_unknown} of "
        "them unknown/opaque"
    )
    print("   per kind:")
    for kind, n in kinds.most_common():
        print(f"     {n:6d}  {kind}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dialect", choices=["postgres", "mysql"], action="append")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--fill-placeholders", action="store_true")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    for dialect in args.dialect or ["postgres", "mysql"]:
        run(dialect, args.corpus, args.fill_placeholders, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
