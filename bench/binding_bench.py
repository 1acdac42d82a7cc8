"""Cost of the verdict binding (sqlgate.binding): expand + split + byte spans per file,
on the PostgreSQL corpus, next to the runner's cross-check split of the same files.

    .venv/bin/python bench/binding_bench.py [CORPUS_DIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sqlgate.binding import file_binding
from sqlgate.errors import SqlgateError
from sqlgate_client.sqlsplit import SplitError, split
from sqlgate_client.trust.binding import byte_spans

ROOT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "postgres"


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    files = [(str(p), p.read_bytes()) for p in sorted(root.rglob("*.sql"))]
    t0 = time.perf_counter()
    bound = {}
    for path, data in files:
        try:
            bound[path] = file_binding(path, data, "postgres", {})
        except SqlgateError:
            continue
    t1 = time.perf_counter()
    agree = differ = 0
    for path, data in files:
        if path not in bound:
            continue
        try:
            text = data.decode("utf-8-sig")
            stmts = split(text)
        except (SplitError, UnicodeDecodeError):
            continue
        spans = byte_spans(text, [(s.tokens[0].start, s.tokens[-1].end) for s in stmts])
        if tuple(spans) == bound[path].spans:
            agree += 1
        else:
            differ += 1
    t2 = time.perf_counter()
    count = sum(len(b.spans) for b in bound.values())
    print(f"{len(files)} files, {len(bound)} bound, {count} statement spans")
    print(f"server binding (expand+split+spans): {t1 - t0:.2f} s")
    print(f"runner cross-check split + compare:  {t2 - t1:.2f} s")
    print(f"runner split agrees with the reviewer's spans: {agree}, differs: {differ}")


if __name__ == "__main__":
    main()
