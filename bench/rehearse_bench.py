"""What a rehearsal costs on a 1M-row table (``sqlgate-runner rehearse``, in process).

Creates a target database with an empty ``big`` table (and an ``events`` table
referring to it), then rehearses a migration set against it with ``--generate-rows``
ROWS: the scratch database is built from the target's schema and seeded with ROWS
generated rows per table, and the figures are the rehearsal's own phase timings and
per-statement measurements (duration, measured locks with hold times, rewrites,
chunks). The target database is dropped at the end.

    .venv/bin/python bench/rehearse_bench.py [--rows 1000000] [--dsn ADMIN_DSN] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from sqlgate_client.runner.migrations import Timeouts, load
from sqlgate_client.runner.rehearse.rehearsal import Options, rehearse

SCHEMA = """
CREATE TABLE big (id bigserial PRIMARY KEY, n integer NOT NULL, label text,
                  created timestamptz NOT NULL DEFAULT now());
CREATE INDEX big_n ON big (n);
CREATE TABLE events (id bigserial PRIMARY KEY, big_id bigint NOT NULL REFERENCES big (id),
                     kind text NOT NULL);
"""
MIGRATION = """-- sqlgate:meta
-- reconcile:
--   - {name: big-count, sql: "SELECT count(*) FROM big", expect: unchanged}
--   - {name: n-sum, sql: "SELECT sum(n) FROM big", expect: unchanged}
ALTER TABLE big ADD COLUMN status text DEFAULT 'new';
ALTER TABLE big ALTER COLUMN n TYPE bigint;
CREATE INDEX big_label ON big (label);
-- sqlgate:batch key=id size=100000
UPDATE big SET label = 'L' || id;
"""
DOWN = """DROP INDEX big_label;
ALTER TABLE big ALTER COLUMN n TYPE integer;
ALTER TABLE big DROP COLUMN status;
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    p.add_argument("--json", type=Path, help="write the rehearsal report here")
    args = p.parse_args()
    name = f"sqlgate_bench_target_{uuid.uuid4().hex[:8]}"
    target = psycopg.conninfo.make_conninfo(args.dsn, dbname=name)
    with psycopg.connect(args.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(SCHEMA)
        with tempfile.TemporaryDirectory() as tmp:
            up, down = Path(tmp, "V2__big.sql"), Path(tmp, "U2__big.sql")
            up.write_text(MIGRATION)
            down.write_text(DOWN)
            migration = load(str(up), Timeouts("5s", "30min"), server_version=None)
            t0 = time.monotonic()
            result = rehearse(
                [migration],
                Options(
                    target_dsn=target,
                    scratch_dsn=args.dsn,
                    timeouts=Timeouts("5s", "30min"),
                    generate_rows=args.rows,
                ),
                out=sys.stderr,
            )
            wall = time.monotonic() - t0
    finally:
        with psycopg.connect(args.dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2, default=str))
    print(
        f"rows per table: {args.rows}; scratch data: {result.seed.total_rows} rows, "
        f"{result.seed.total_bytes / 2**20:.0f} MiB"
    )
    print(
        f"wall: {wall:.1f} s; phases: "
        + ", ".join(f"{k} {v / 1000:.1f} s" for k, v in result.phases_ms.items())
    )
    for t in result.statements:
        locks = "; ".join(
            f"{lk.mode} on {lk.relation} {lk.held_ms / 1000:.2f} s"
            for lk in t.locks
            if not lk.created
        )
        rewrites = ", ".join(w.relation for w in t.rewrites)
        chunks = f", {len(t.chunks)} chunks" if t.chunks else ""
        print(
            f"  line {t.line}: {t.duration_ms / 1000:.2f} s{chunks}; locks: {locks or '-'}; "
            f"rewrites: {rewrites or '-'}"
        )
    print(
        f"rollback test: {result.rollback.status}; reconciliation: "
        f"{sum(o.passed for o in result.reconciliation)}/{len(result.reconciliation)} ok; "
        f"error: {result.error or '-'}"
    )
    return 0 if not result.error and result.rollback.status == "passed" else 1


if __name__ == "__main__":
    sys.exit(main())
