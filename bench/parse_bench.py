"""Parse performance on the real corpus: one core vs the process pool vs a warm cache, and Squawk.

    .venv/bin/python bench/parse_bench.py [--dialect postgres|mysql] [--threshold]

Each mode runs in its own child process (so its peak RSS is its own, via ``os.wait4``):

- ``single``: every file parsed as its own set, in one process (cold: nothing cached);
- ``pool``: every file parsed by a ``ParsePool`` (one worker per core, started and
  warmed before timing; the start-up is reported apart), results collected in order;
- ``warm``: a ``ParseCache`` filled by one pass, then every file parsed again.

Files with template placeholders get a dummy value for each (as ``corpus_parse.py
--fill-placeholders``); remaining input errors are counted, not timed out. Figures:
SQL statements/s (wall), p50/p99 per-file latency, peak RSS. Squawk (``.venv/bin/squawk``)
lints the same PostgreSQL files in the same run; ratios are sqlgate wall / Squawk wall.
``--threshold`` measures, on sets of growing size, where the pool starts to pay off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
VENV_BIN = Path(sys.executable).parent


def load(dialect: str, root: Path) -> tuple[list[Any], dict[str, str]]:
    from sqlgate.errors import InputError
    from sqlgate.parse import SourceFile
    from sqlgate.parse.placeholders import names
    from sqlgate.parse.source import decode

    files = [
        SourceFile(str(p), p.read_bytes())
        for p in sorted(p for p in (root / dialect).rglob("*") if p.is_file())
    ]
    wanted: set[str] = set()
    for f in files:
        try:
            wanted |= names(decode(f))
        except InputError:
            continue
    return files, dict.fromkeys(wanted, "sqlgate_bench")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _time_each(
    files: list[Any], dialect: str, variables: dict[str, str], **kw: Any
) -> dict[str, Any]:
    from sqlgate.errors import InputError
    from sqlgate.parse import parse_migrations

    lat: list[float] = []
    statements = errors = 0
    for f in files:
        start = time.perf_counter()
        try:
            statements += parse_migrations([f], dialect, variables=variables, **kw).statement_count  # type: ignore[arg-type]
        except InputError:
            errors += 1
        lat.append(time.perf_counter() - start)
    return {"wall": sum(lat), "lat": lat, "statements": statements, "errors": errors}


def child(mode: str, dialect: str, root: Path) -> dict[str, Any]:
    """One mode, in this (child) process; returns its figures."""
    from sqlgate.errors import InputError
    from sqlgate.parse import Limits, ParseCache, ParsePool

    files, variables = load(dialect, root)
    out: dict[str, Any] = {"files": len(files)}
    if mode == "single":
        r = _time_each(files, dialect, variables)
    elif mode == "warm":
        cache = ParseCache()
        fill = _time_each(files, dialect, variables, cache=cache)
        out["fill_wall"] = fill["wall"]
        r = _time_each(files, dialect, variables, cache=cache)
        out["cache"] = cache.stats().log_line()
    else:
        pool = ParsePool()
        start = time.perf_counter()
        pool.warm_up()
        out["startup"] = time.perf_counter() - start
        out["workers"] = pool.workers
        statements = errors = 0
        start = time.perf_counter()
        futures = pool.submit_all(files, dialect, variables, Limits().max_nesting)
        for fut in futures:
            try:
                statements += pool.result(fut).segments
            except InputError:
                errors += 1
        wall = time.perf_counter() - start
        pool.close()
        r = {"wall": wall, "lat": [], "statements": statements, "errors": errors}
        out["workers_peak_rss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lat = r.pop("lat")
    out |= r
    out["p50_ms"] = 1000 * percentile(lat, 0.50) if lat else None
    out["p99_ms"] = 1000 * percentile(lat, 0.99) if lat else None
    return out


def run_child(args: list[str]) -> tuple[dict[str, Any], int]:
    """Run this script in a child process; its JSON figures and its peak RSS (KiB)."""
    with tempfile.TemporaryFile() as outf:
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=outf)
        _, status, usage = os.wait4(proc.pid, 0)
        outf.seek(0)
        text = outf.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child {args} failed: exit {os.waitstatus_to_exitcode(status)}")
    return json.loads(text.strip().splitlines()[-1]), usage.ru_maxrss


def squawk(root: Path) -> tuple[float, int] | str:
    exe = VENV_BIN / "squawk"
    if not exe.exists():
        found = shutil.which("squawk")
        if not found:
            return "not installed"
        exe = Path(found)
    files = [str(p) for p in sorted(p for p in (root / "postgres").rglob("*") if p.is_file())]
    with tempfile.TemporaryFile() as sink:
        start = time.perf_counter()
        proc = subprocess.Popen([str(exe), *files], stdout=sink, stderr=sink)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1 = violations reported
        return f"failed: exit {code}"
    return wall, usage.ru_maxrss


def fmt_rss(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB"


def table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def threshold(root: Path) -> None:
    """Wall of one set on one core vs through a warm pool, by set size (PostgreSQL)."""
    from sqlgate.errors import InputError
    from sqlgate.parse import ParsePool, parse_migrations

    files, variables = load("postgres", root)
    ok = []
    for f in files[:800]:
        try:
            parse_migrations([f], "postgres", variables=variables)
            ok.append(f)
        except InputError:
            pass
    rows = [["set bytes", "files", "one core ms", "pool ms", "pool/one"]]
    with ParsePool(min_bytes=0) as pool:
        pool.warm_up()
        for target in (4_000, 16_000, 64_000, 256_000, 1_000_000):
            subset, size = [], 0
            for f in ok:
                if size >= target:
                    break
                subset.append(f)
                size += len(f.content)
            best = {}
            for name, kw in (("one", {}), ("pool", {"pool": pool})):
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    parse_migrations(subset, "postgres", variables=variables, **kw)  # type: ignore[arg-type]
                    times.append(time.perf_counter() - start)
                best[name] = min(times)
            one, pooled = best["one"], best["pool"]
            rows.append([f"{size:,}", str(len(subset)), f"{1000 * one:.1f}",
                         f"{1000 * pooled:.1f}", f"{pooled / one:.2f}"])  # fmt: skip
    table(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dialect", choices=["postgres", "mysql"], action="append")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--threshold", action="store_true")
    ap.add_argument("--child", choices=["single", "pool", "warm"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(child(args.child, args.dialect[0], args.corpus)))
        return 0
    if args.threshold:
        threshold(args.corpus)
        return 0
    load1 = os.getloadavg()[0]
    print(f"parse_bench: {os.cpu_count()} CPUs, load average {load1:.1f}, corpus {args.corpus}")
    for dialect in args.dialect or ["postgres", "mysql"]:
        base = ["--corpus", str(args.corpus), "--dialect", dialect, "--child"]
        figures = {m: run_child([*base, m]) for m in ("single", "pool", "warm")}
        sq = squawk(args.corpus) if dialect == "postgres" else None
        single = figures["single"][0]
        print(f"\n== {dialect}: {single['files']} files, {single['statements']} SQL statements, "
              f"{single['errors']} input errors")  # fmt: skip
        rows = [["mode", "wall s", "stmts/s", "p50 ms", "p99 ms", "peak RSS", "vs squawk"]]
        for mode, (f, rss) in figures.items():
            ratio = f"{f['wall'] / sq[0]:.2f}x" if isinstance(sq, tuple) else "-"
            p50 = f"{f['p50_ms']:.2f}" if f["p50_ms"] is not None else "-"
            p99 = f"{f['p99_ms']:.2f}" if f["p99_ms"] is not None else "-"
            rss_s = fmt_rss(rss)
            if mode == "pool":
                rss_s += f" (+workers {fmt_rss(f['workers_peak_rss_kb'])} each)"
            label = {"single": "one core, cold", "pool": f"pool x{f.get('workers')}",
                     "warm": "warm cache"}[mode]  # fmt: skip
            rows.append([label, f"{f['wall']:.2f}", f"{f['statements'] / f['wall']:,.0f}",
                         p50, p99, rss_s, ratio])  # fmt: skip
        if isinstance(sq, tuple):
            rows.append(["squawk", f"{sq[0]:.2f}", f"{single['statements'] / sq[0]:,.0f}",
                         "-", "-", fmt_rss(sq[1]), "1.00x"])  # fmt: skip
        table(rows)
        pool = figures["pool"][0]
        warm = figures["warm"][0]
        print(f"   pool start-up (spawn + warm-up, not in wall): {pool['startup']:.2f} s; "
              f"cache fill pass: {warm['fill_wall']:.2f} s; {warm['cache']}")  # fmt: skip
        if isinstance(sq, str):
            print(f"   squawk: {sq}")
        if pool["statements"] != single["statements"]:
            print("   WARNING: pool and single-process statement counts differ")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (figures on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
