"""Throughput benchmark: ``sqlgate check --local`` against Squawk on the same files.

Generates (seeded, so every run reviews the same bytes) a corpus of PostgreSQL
migrations, then in one run measures:

(a) one ``sqlgate check --local --format json`` over the whole directory, as a
    subprocess: wall time, statements/s, peak RSS (``os.wait4`` rusage);
(b) per-file latency p50/p99: ``sqlgate check --local`` run once per file on a
    seeded sample of files, each a fresh process (so it includes interpreter start,
    imports and policy preparation: the latency a pre-commit hook or a one-file CI
    job sees);
(c) ``squawk`` over the same files in one process: wall time and peak RSS, and the
    ratio sqlgate/squawk.

If ``sqlgate check --local`` is not available or fails, its half is reported as
unavailable with the reason, and the Squawk half still runs. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent

TYPES = (
    "bigint",
    "integer",
    "text",
    "varchar(255)",
    "boolean",
    "timestamptz",
    "jsonb",
    "numeric(12,2)",
)
NOUNS = (
    "users",
    "accounts",
    "orders",
    "invoices",
    "payments",
    "products",
    "carts",
    "sessions",
    "events",
    "audit_logs",
    "teams",
    "projects",
    "tasks",
    "comments",
    "tags",
    "shipments",
    "refunds",
    "coupons",
    "subscriptions",
    "plans",
    "webhooks",
    "api_keys",
    "reports",
    "jobs",
)
COLUMNS = (
    "status",
    "email",
    "name",
    "note",
    "amount",
    "currency",
    "external_id",
    "archived",
    "priority",
    "score",
    "region",
    "locale",
    "settings",
    "deleted_at",
    "updated_at",
    "owner_id",
)


@dataclass
class Table:
    name: str
    columns: list[str] = field(default_factory=list)
    indexes: int = 0


class Generator:
    """Emits a realistic mix of PostgreSQL migration statements."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        # The schema the migrations start from: tables that exist before the first file.
        self.tables: list[Table] = [
            Table(noun, ["id", "created_at", "updated_at", "owner_id", "status"])
            for noun in NOUNS[:6]
        ]
        self.serial = 0

    def _uid(self) -> int:
        self.serial += 1
        return self.serial

    def _table(self) -> Table:
        if not self.tables:
            return self.create_table_obj()
        return self.rng.choice(self.tables)

    def create_table_obj(self) -> Table:
        name = f"{self.rng.choice(NOUNS)}_{self._uid()}"
        table = Table(name, ["id", "created_at"])
        self.tables.append(table)
        return table

    def create_table(self) -> str:
        table = self.create_table_obj()
        cols = ["id bigserial PRIMARY KEY", "created_at timestamptz NOT NULL DEFAULT now()"]
        for _ in range(self.rng.randint(1, 5)):
            col = f"{self.rng.choice(COLUMNS)}_{self._uid()}"
            table.columns.append(col)
            null = " NOT NULL" if self.rng.random() < 0.4 else ""
            cols.append(f"{col} {self.rng.choice(TYPES)}{null}")
        if len(self.tables) > 1 and self.rng.random() < 0.4:
            ref = self.rng.choice(self.tables[:-1])
            col = f"{ref.name}_id"
            table.columns.append(col)
            cols.append(f"{col} bigint REFERENCES {ref.name} (id) ON DELETE CASCADE")
        body = ",\n    ".join(cols)
        return f"CREATE TABLE {table.name} (\n    {body}\n)"

    def add_column(self) -> str:
        table = self._table()
        col = f"{self.rng.choice(COLUMNS)}_{self._uid()}"
        table.columns.append(col)
        kind = self.rng.random()
        typ = self.rng.choice(TYPES)
        if kind < 0.45:
            return f"ALTER TABLE {table.name} ADD COLUMN {col} {typ}"
        if kind < 0.7:
            return f"ALTER TABLE {table.name} ADD COLUMN {col} integer NOT NULL DEFAULT 0"
        if kind < 0.85:
            return f"ALTER TABLE {table.name} ADD COLUMN {col} timestamptz DEFAULT now()"
        return f"ALTER TABLE {table.name} ADD COLUMN IF NOT EXISTS {col} text NOT NULL"

    def create_index(self) -> str:
        table = self._table()
        table.indexes += 1
        col = self.rng.choice(table.columns)
        name = f"{table.name}_{col}_idx{table.indexes}"
        roll = self.rng.random()
        if roll < 0.35:
            return f"CREATE INDEX {name} ON {table.name} ({col})"
        if roll < 0.7:
            return f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table.name} ({col})"
        if roll < 0.85:
            return f"CREATE UNIQUE INDEX {name} ON {table.name} ({col}, id)"
        return f"CREATE INDEX CONCURRENTLY {name} ON {table.name} ({col}) WHERE {col} IS NOT NULL"

    def foreign_key(self) -> list[str]:
        child, parent = self._table(), self._table()
        col = f"{parent.name}_ref_{self._uid()}"
        name = f"{child.name}_{col}_fkey"
        out = [f"ALTER TABLE {child.name} ADD COLUMN {col} bigint"]
        if self.rng.random() < 0.5:
            out.append(
                f"ALTER TABLE {child.name} ADD CONSTRAINT {name} FOREIGN KEY ({col}) "
                f"REFERENCES {parent.name} (id) NOT VALID"
            )
            out.append(f"ALTER TABLE {child.name} VALIDATE CONSTRAINT {name}")
        else:
            out.append(
                f"ALTER TABLE {child.name} ADD CONSTRAINT {name} FOREIGN KEY ({col}) "
                f"REFERENCES {parent.name} (id)"
            )
        child.columns.append(col)
        return out

    def update(self) -> str:
        table = self._table()
        col = self.rng.choice(table.columns[1:] or table.columns)
        if self.rng.random() < 0.6:
            lo = self.rng.randint(1, 10**6)
            return f"UPDATE {table.name} SET {col} = DEFAULT WHERE id BETWEEN {lo} AND {lo + 999}"
        return f"UPDATE {table.name} SET {col} = NULL"

    def delete(self) -> str:
        table = self._table()
        if self.rng.random() < 0.7:
            return f"DELETE FROM {table.name} WHERE created_at < now() - interval '90 days'"
        return f"DELETE FROM {table.name}"

    def alter_column(self) -> str:
        table = self._table()
        col = self.rng.choice(table.columns)
        return self.rng.choice(
            (
                f"ALTER TABLE {table.name} ALTER COLUMN {col} TYPE bigint",
                f"ALTER TABLE {table.name} ALTER COLUMN {col} SET NOT NULL",
                f"ALTER TABLE {table.name} ALTER COLUMN {col} DROP NOT NULL",
                f"ALTER TABLE {table.name} ALTER COLUMN {col} SET DEFAULT 0",
                f"ALTER TABLE {table.name} ADD CONSTRAINT {table.name}_chk{self._uid()} "
                f"CHECK (id > 0) NOT VALID",
            )
        )

    def rename(self) -> str:
        table = self._table()
        if self.rng.random() < 0.6 and len(table.columns) > 2:
            idx = self.rng.randrange(2, len(table.columns))
            new = f"{table.columns[idx]}_v{self._uid()}"
            old, table.columns[idx] = table.columns[idx], new
            return f"ALTER TABLE {table.name} RENAME COLUMN {old} TO {new}"
        new = f"{table.name}_v{self._uid()}"
        old, table.name = table.name, new
        return f"ALTER TABLE {old} RENAME TO {new}"

    def drop(self) -> str:
        table = self._table()
        if self.rng.random() < 0.6 and len(table.columns) > 3:
            col = table.columns.pop()
            return f"ALTER TABLE {table.name} DROP COLUMN {col}"
        self.tables.remove(table)
        return f"DROP TABLE IF EXISTS {table.name}"

    def misc(self) -> str:
        table = self._table()
        return self.rng.choice(
            (
                f"INSERT INTO {table.name} (id) VALUES ({self._uid()})",
                f"GRANT SELECT ON {table.name} TO reporting",
                "CREATE EXTENSION IF NOT EXISTS pgcrypto",
                "SET statement_timeout = '30s'",
                f"COMMENT ON TABLE {table.name} IS 'owned by team {self._uid() % 7}'",
            )
        )

    def statements(self, n: int) -> list[str]:
        """About n statements for one file (FK additions emit up to 3)."""
        weights = (
            (self.create_table, 12), (self.add_column, 18), (self.create_index, 14),
            (self.foreign_key, 6), (self.update, 9), (self.delete, 4), (self.alter_column, 9),
            (self.rename, 5), (self.drop, 5), (self.misc, 8),
        )  # fmt: skip
        makers = [m for m, _ in weights]
        ws = [w for _, w in weights]
        out: list[str] = []
        if self.rng.random() < 0.5:
            out.append(f"SET lock_timeout = '{self.rng.choice((2, 5, 10))}s'")
        while len(out) < n:
            made = self.rng.choices(makers, ws)[0]()
            out.extend(made if isinstance(made, list) else [made])
        return out


def generate(out: Path, files: int, statements: int, seed: int) -> int:
    """Write the corpus into ``out``; returns the number of SQL statements written."""
    gen = Generator(seed)
    out.mkdir(parents=True, exist_ok=True)
    per_file = [max(1, round(gen.rng.gauss(statements / files, statements / files / 3)))
                for _ in range(files)]  # fmt: skip
    total = 0
    for i, n in enumerate(per_file, 1):
        stmts = gen.statements(n)
        wrap = gen.rng.random() < 0.25 and not any("CONCURRENTLY" in s for s in stmts)
        body = [f"-- generated migration {i} (seed {seed})"]
        if wrap:
            body.append("BEGIN;")
        body.extend(s + ";" for s in stmts)
        if wrap:
            body.append("COMMIT;")
        total += len(stmts) + (2 if wrap else 0)
        (out / f"V{i:04d}__change_{i}.sql").write_text("\n".join(body) + "\n")
    return total


@dataclass
class Run:
    wall: float
    peak_rss_kb: int
    returncode: int
    stdout: str
    stderr: str


def run(cmd: list[str]) -> Run:
    """Run ``cmd``, measuring wall time and the child's own peak RSS via wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            usage.ru_maxrss,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def sqlgate_cmd(paths: list[str]) -> list[str]:
    exe = VENV_BIN / "sqlgate"
    return [str(exe), "check", "--local", "--format", "json", "--env", "production",
            "--dialect", "postgres", *paths]  # fmt: skip


# sqlgate exit codes that mean "reviewed": allow, deny, needs approval.
REVIEWED = {0, 1, 3}


def last_line(text: str) -> str:
    """The last non-empty line of a child's stderr: the error, not the traceback."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no message)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def fmt_rss(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--out", type=Path, help="write the corpus here (default: a temp dir)")
    p.add_argument("--files", type=int, default=500)
    p.add_argument("--statements", type=int, default=12_000, help="about this many in all")
    p.add_argument("--seed", type=int, default=20240611)
    p.add_argument("--sample", type=int, default=25, help="files timed one by one for (b)")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    tmp = None
    if args.out is None:
        tmp = tempfile.mkdtemp(prefix="sqlgate-bench-")
        out = Path(tmp)
    else:
        out = args.out
        if out.exists() and any(out.glob("*.sql")):
            sys.exit(f"{out} already holds .sql files; give an empty or new directory")
    try:
        return bench(out, args)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def bench(out: Path, args: argparse.Namespace) -> int:
    total = generate(out, args.files, args.statements, args.seed)
    files = sorted(str(f) for f in out.glob("*.sql"))
    size = sum(Path(f).stat().st_size for f in files)
    print(f"corpus: {len(files)} files, {total} statements, {size / 1024:.0f} KiB in {out}")
    figures: dict[str, object] = {"files": len(files), "statements": total, "bytes": size}

    rows: list[tuple[str, str]] = []
    sqlgate_wall: float | None = None
    unavailable: str | None = None

    # (a) sqlgate over the whole directory.
    if not (VENV_BIN / "sqlgate").exists():
        unavailable = f"{VENV_BIN / 'sqlgate'} not found"
    else:
        whole = run(sqlgate_cmd([str(out)]))
        if whole.returncode not in REVIEWED:
            unavailable = f"exit {whole.returncode}: {last_line(whole.stderr)}"
        else:
            try:
                result = json.loads(whole.stdout)
            except json.JSONDecodeError as exc:
                unavailable = f"exit {whole.returncode}, output is not JSON ({exc}): " + last_line(
                    whole.stderr
                )
            else:
                sqlgate_wall = whole.wall
                counted = int(result.get("statements", 0))
                findings = len(result.get("findings", []))
                sqlgate_fig: dict[str, object] = {
                    "wall_s": whole.wall, "statements_per_s": counted / whole.wall,
                    "peak_rss_kb": whole.peak_rss_kb, "statements_counted": counted,
                    "findings": findings, "decision": result.get("decision"),
                }  # fmt: skip
                figures["sqlgate"] = sqlgate_fig
                rows += [
                    ("sqlgate whole-dir wall", f"{whole.wall:.2f} s"),
                    ("sqlgate statements/s", f"{counted / whole.wall:,.0f}"),
                    ("sqlgate peak RSS", fmt_rss(whole.peak_rss_kb)),
                    ("sqlgate statements counted", f"{counted} (generated {total})"),
                    ("sqlgate findings / decision", f"{findings} / {result.get('decision')}"),
                ]
                if counted != total:
                    rows.append(("WARNING", "statement count differs from the generated count"))
                engine_errors = [
                    f for f in result.get("findings", []) if f.get("rule") == "policy-engine-error"
                ]
                if engine_errors:
                    # Fail-closed deny: the wall time is not that of a complete review.
                    sqlgate_fig["policy_engine_error"] = engine_errors[0].get("message")
                    rows.append(
                        ("WARNING", "policy evaluation did not complete: "
                         + str(engine_errors[0].get("message")))
                    )  # fmt: skip

    # (b) per-file latency, one process per sampled file.
    if unavailable is None:
        rng = random.Random(args.seed)
        sample = rng.sample(files, min(args.sample, len(files)))
        times: list[float] = []
        for path in sample:
            single = run(sqlgate_cmd([path]))
            if single.returncode not in REVIEWED:
                unavailable = f"per-file run of {path} exited {single.returncode}: " + (
                    last_line(single.stderr)
                )
                break
            times.append(single.wall)
        if times and unavailable is None:
            p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
            figures["sqlgate_per_file"] = {"sample": len(times), "p50_s": p50, "p99_s": p99}
            rows += [
                (f"sqlgate per-file p50 (n={len(times)}, process each)", f"{p50 * 1000:.0f} ms"),
                (f"sqlgate per-file p99 (n={len(times)}, process each)", f"{p99 * 1000:.0f} ms"),
            ]

    # (c) squawk over the same files, one process.
    squawk = VENV_BIN / "squawk"
    if not squawk.exists() and shutil.which("squawk"):
        squawk = Path(str(shutil.which("squawk")))
    if squawk.exists():
        sq = run([str(squawk), *files])
        # squawk exits 1 when it reports violations; anything else non-zero is a failure.
        if sq.returncode in (0, 1):
            figures["squawk"] = {"wall_s": sq.wall, "peak_rss_kb": sq.peak_rss_kb,
                                 "statements_per_s": total / sq.wall}  # fmt: skip
            rows += [
                ("squawk wall", f"{sq.wall:.2f} s"),
                ("squawk statements/s", f"{total / sq.wall:,.0f}"),
                ("squawk peak RSS", fmt_rss(sq.peak_rss_kb)),
            ]
            if sqlgate_wall is not None:
                ratio = sqlgate_wall / sq.wall
                figures["ratio_sqlgate_over_squawk"] = ratio
                rows.append(("ratio sqlgate/squawk (wall)", f"{ratio:.1f}x"))
        else:
            rows.append(("squawk", f"failed: exit {sq.returncode}: {last_line(sq.stderr)}"))
    else:
        rows.append(("squawk", "not installed (pip install squawk-cli)"))

    if unavailable is not None:
        figures["sqlgate_unavailable"] = unavailable
        rows.insert(0, ("sqlgate", f"UNAVAILABLE: {unavailable}"))

    width = max(len(k) for k, _ in rows)
    print()
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 20}")
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if unavailable is None else 1


if __name__ == "__main__":
    raise SystemExit(main())
