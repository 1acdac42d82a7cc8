"""Byte-identity check of the parser's output on the whole corpus (for performance work).

    .venv/bin/python bench/parse_identity.py --save BASE.json   # before a change
    .venv/bin/python bench/parse_identity.py --check BASE.json  # after: exit 1 on any difference

For every corpus file (each parsed as its own set, placeholders filled as in
``parse_bench.py``) it records a SHA-256 of the canonical JSON of every statement's
``to_json()`` — unknown reasons and details included — or of the input error raised,
plus a digest of every splitter segment (text, offsets, line/column, comments, depth,
flags). ``--check`` lists the first files whose digests differ. Why digests and not
the JSON itself: ~20k statements of JSON would make a multi-megabyte baseline file.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _digest(obj: Any) -> str:
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=repr)
    return hashlib.sha256(data.encode()).hexdigest()


def digests(root: Path, dialects: list[str]) -> dict[str, dict[str, str]]:
    from sqlgate.errors import InputError
    from sqlgate.parse import SourceFile, parse_migrations
    from sqlgate.parse.placeholders import expand, names
    from sqlgate.parse.source import decode
    from sqlgate.parse.split import split

    out: dict[str, dict[str, str]] = {}
    for dialect in dialects:
        for p in sorted(p for p in (root / dialect).rglob("*") if p.is_file()):
            src = SourceFile(str(p.relative_to(root)), p.read_bytes())
            entry: dict[str, str] = {}
            try:
                variables = dict.fromkeys(names(decode(src)), "sqlgate_bench")
                text = expand(decode(src), variables, path=src.path)
                entry["split"] = _digest([dataclasses.astuple(s) for s in split(text, dialect)])  # type: ignore[arg-type]
            except InputError as exc:
                variables = {}
                entry["split"] = f"error {type(exc).__name__}: {exc}"
            try:
                result = parse_migrations([src], dialect, variables=variables)  # type: ignore[arg-type]
                entry["model"] = _digest(
                    [result.statement_count, [s.to_json() for s in result.statements]]
                )
            except InputError as exc:
                entry["model"] = f"error {type(exc).__name__}: {exc}"
            out[f"{dialect}/{src.path}"] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path)
    mode.add_argument("--check", type=Path)
    ap.add_argument("--dialect", choices=["postgres", "mysql"], action="append")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    args = ap.parse_args(argv)
    now = digests(args.corpus, args.dialect or ["postgres", "mysql"])
    if args.save:
        args.save.write_text(json.dumps(now, indent=0, sort_keys=True))
        print(f"saved {len(now)} files to {args.save}")
        return 0
    base: dict[str, dict[str, str]] = json.loads(args.check.read_text())
    base = {k: v for k, v in base.items() if k in now}
    diff = [k for k in sorted(set(base) | set(now)) if base.get(k) != now.get(k)]
    for k in diff[:20]:
        b, n = base.get(k, {}), now.get(k, {})
        parts = [f for f in ("split", "model") if b.get(f) != n.get(f)]
        print(f"DIFF {k}: {', '.join(parts)}")
    print(f"{len(now)} files checked, {len(diff)} differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
