"""Start-up benchmark: one-file and 20-file ``sqlgate check --local`` wall time.

Each command runs N times as a fresh process (median and min printed) next to the
floor, ``python -c pass`` from the same venv, and Squawk (``squawk``) on the same
files in the same run, so the ratios hold on a loaded machine where absolute times do
not. The one-file case is a 3-statement migration (the pre-commit / editor case); the
20-file case is the first 20 PostgreSQL files of one corpus repository (the default,
``--corpus-repo``) copied into a temporary directory. Exit codes 0/1/3 (a decision)
count as success; anything else aborts the run. Targets (issue 12): one file
<= 6x ``python -c pass``, 20 files <= 0.3 s. Figures: bench/README.md.

    .venv/bin/python bench/startup_bench.py [-n 9]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
CORPUS = Path("/work/shared/corpus/postgres")
ONE_FILE = (
    "CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text);\n"
    "ALTER TABLE accounts ADD COLUMN created_at timestamptz;\n"
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);\n"
)


def timed(cmd: list[str], ok: tuple[int, ...]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd[:4])}...: exit {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return elapsed


def series(cmd: list[str], n: int, ok: tuple[int, ...]) -> list[float]:
    timed(cmd, ok)  # warm the OS page cache once; not counted
    return [timed(cmd, ok) for _ in range(n)]


def pick_files(repo: str | None, count: int) -> list[Path]:
    repos = [repo] if repo else sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    for name in repos:
        # Template placeholders need --var values: leave such files out.
        files = [
            f
            for f in sorted((CORPUS / name).glob("*.sql"))
            if "${" not in (text := f.read_text(errors="replace")) and "{{" not in text
        ]
        if len(files) >= count:
            return files[:count]
    sys.exit(f"no corpus repository with {count} files under {CORPUS}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=9, help="runs per command (default 9)")
    ap.add_argument("--corpus-repo", help="corpus repository for the 20-file case")
    args = ap.parse_args(argv)

    sqlgate = str(VENV_BIN / "sqlgate")
    squawk = shutil.which("squawk", path=str(VENV_BIN)) or shutil.which("squawk")
    decision = (0, 1, 3)
    with tempfile.TemporaryDirectory(prefix="sqlgate-startup-") as tmp:
        one = Path(tmp) / "one" / "V1__accounts.sql"
        one.parent.mkdir()
        one.write_text(ONE_FILE)
        many_dir = Path(tmp) / "many"
        many_dir.mkdir()
        for i, src in enumerate(pick_files(args.corpus_repo, 20)):
            shutil.copyfile(src, many_dir / f"V{i + 1:03d}__{src.name}")
        many = sorted(str(p) for p in many_dir.iterdir())
        local = [sqlgate, "check", "--local", "--format", "json"]
        rows: list[tuple[str, list[float]]] = [
            ("python -c pass", series([sys.executable, "-c", "pass"], args.n, (0,))),
            ("sqlgate check --local, 1 file", series([*local, str(one)], args.n, decision)),
            ("sqlgate check --local, 20 files", series([*local, str(many_dir)], args.n, decision)),
        ]
        if squawk:
            rows.append(("squawk, 1 file", series([squawk, str(one)], args.n, (0, 1))))
            rows.append(("squawk, 20 files", series([squawk, *many], args.n, (0, 1))))
        else:
            print("squawk: UNAVAILABLE (not on PATH nor in the venv)")

    med = {name: statistics.median(times) for name, times in rows}
    floor = med["python -c pass"]
    print(f"{'command':34} {'median s':>9} {'min s':>7} {'x python':>9} {'x squawk':>9}")
    for name, times in rows:
        sq_name = "squawk, 1 file" if "1 file" in name else "squawk, 20 files"
        vs_sq = (
            f"{med[name] / med[sq_name]:.1f}"
            if sq_name in med and name.startswith("sqlgate")
            else "-"
        )
        print(f"{name:34} {med[name]:9.3f} {min(times):7.3f} {med[name] / floor:9.1f} {vs_sq:>9}")
    print(f"(n={args.n} runs each after one unrecorded warm-up run; 20 files from {CORPUS})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
