"""Statement-count scaling: one file of 1k / 10k / 50k statements, sqlgate vs Squawk.

    .venv/bin/python bench/statement_scaling.py                  # 1000,10000,50000
    .venv/bin/python bench/statement_scaling.py --sizes 1000,20000 --json /tmp/scale.json

For each size it writes one seeded PostgreSQL file (the ``check_bench.py`` mix), then
runs, each in a child process of its own so its peak RSS (``ru_maxrss`` from
``os.wait4``) is that size's alone:

- sqlgate: split, then the whole parse (``parse_migrations``, no pool, no cache), facts
  (``derive``) and the policy evaluation (embedded engine), each stage timed;
- Squawk on the same file (``squawk --reporter json``), wall time.

A linear pipeline shows a flat µs/statement column from 1k to 50k. The file is bigger
than the server's default per-file limit at 50k, so the child raises the byte limits
(the statement limit stays 50,000).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

VENV_BIN = Path(sys.executable).parent


def write_file(path: Path, statements: int, seed: int) -> int:
    from check_bench import Generator

    gen = Generator(seed)
    stmts = gen.statements(statements)[:statements]
    path.write_text("-- generated\n" + "\n".join(s + ";" for s in stmts) + "\n")
    return len(stmts)


def child(path: Path) -> dict[str, Any]:
    """Time each stage of reviewing ``path`` in this process."""
    from sqlgate.facts import derive
    from sqlgate.parse import Limits, SourceFile, parse_migrations
    from sqlgate.parse.split import split
    from sqlgate.policy.bundle import load_policy_set
    from sqlgate.policy.embedded import EmbeddedEngine
    from sqlgate.review import MigrationFile, ReviewRequest, build_policy_input

    root = Path(__file__).resolve().parent.parent
    engine = EmbeddedEngine(load_policy_set(root / "policies"), timeout_s=600.0)
    content = path.read_bytes()
    out: dict[str, Any] = {}
    t = time.perf_counter()
    segments = split(content.decode(), "postgres")
    out["split_s"] = time.perf_counter() - t
    limits = Limits(max_file_bytes=64 << 20, max_total_bytes=64 << 20)
    t = time.perf_counter()
    parsed = parse_migrations([SourceFile(path.name, content)], "postgres", limits=limits)
    out["parse_s"] = time.perf_counter() - t
    t = time.perf_counter()
    derived = derive(parsed.statements, catalog=None, dialect="postgres")
    statements = [s.to_json() for s in derived.statements]
    out["facts_s"] = time.perf_counter() - t
    request = ReviewRequest(
        repo="bench",
        commit="0" * 40,
        environment="production",
        target="bench",
        dialect="postgres",
        migrations=[MigrationFile(path.name, content)],
    )
    policy_input = build_policy_input(
        request,
        files=[{"path": path.name, "sha256": "", "statements": len(segments), "metadata": {}}],
        statements=statements,
        facts=derived.to_json(),
        catalog=None,
    )
    t = time.perf_counter()
    outcome = engine.evaluate(policy_input)
    out["policy_s"] = time.perf_counter() - t
    out["statements"] = len(segments)
    out["decision"] = outcome.decision
    close = getattr(engine, "close", None)
    if callable(close):
        close()
    return out


def run_child(cmd: list[str]) -> tuple[float, int, str]:
    """(wall s, peak RSS KiB, stdout) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss, stdout


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--json", type=Path, help="write the figures here too")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return 0
    squawk = VENV_BIN / "squawk"
    rows: list[dict[str, Any]] = []
    print(
        f"{'stmts':>7} {'split s':>8} {'parse s':>8} {'facts s':>8} {'policy s':>8} "
        f"{'total s':>8} {'µs/stmt':>8} {'stmts/s':>8} {'peak MB':>8} | "
        f"{'squawk s':>8} {'sq MB':>6} {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"scale_{size}.sql"
            write_file(path, size, args.seed)
            _, rss, stdout = run_child([sys.executable, __file__, "--child", str(path)])
            figures = json.loads(stdout)
            sq_wall, sq_rss, _ = run_child([str(squawk), "--reporter", "json", str(path)])
            total = sum(figures[k] for k in ("split_s", "parse_s", "facts_s", "policy_s"))
            n = figures["statements"]
            row = {
                **figures,
                "size": size,
                "bytes": path.stat().st_size,
                "total_s": total,
                "peak_rss_mb": rss / 1024,
                "squawk_s": sq_wall,
                "squawk_rss_mb": sq_rss / 1024,
            }
            rows.append(row)
            print(
                f"{n:>7} {figures['split_s']:>8.2f} {figures['parse_s']:>8.2f} "
                f"{figures['facts_s']:>8.2f} {figures['policy_s']:>8.2f} {total:>8.2f} "
                f"{total / n * 1e6:>8.0f} {n / total:>8.0f} {rss / 1024:>8.0f} | "
                f"{sq_wall:>8.2f} {sq_rss / 1024:>6.0f} {total / sq_wall:>6.1f}",
                flush=True,
            )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
