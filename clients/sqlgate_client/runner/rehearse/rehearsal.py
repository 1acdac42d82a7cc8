"""One rehearsal: scratch database, seed, traced apply, reconciliation, rollback test.

The migrations run through the runner's own :class:`Applier` (the apply path, not a
copy of it) with a :class:`Tracer` watching; only the database differs. Everything
happens in the scratch database, which is dropped at the end whatever happened.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import psycopg

from sqlgate_client.metaheader import Check
from sqlgate_client.runner.apply import Applier, StopFlag
from sqlgate_client.runner.errors import Interrupted, RunnerError
from sqlgate_client.runner.history import History
from sqlgate_client.runner.migrations import Migration, Timeouts, load, plan
from sqlgate_client.runner.rehearse import reconcile, seed, snapshot
from sqlgate_client.runner.rehearse.rollbacks import rollback_for
from sqlgate_client.runner.rehearse.scratch import Scratch, TableSize, read_target
from sqlgate_client.runner.rehearse.trace import StatementTrace, Tracer
from sqlgate_client.sqlsplit import Statement

ROLLBACK_HISTORY = "sqlgate_rehearsal.rollback_history"


@dataclass
class Options:
    target_dsn: str
    scratch_dsn: str
    history_table: str = "sqlgate.schema_history"
    timeouts: Timeouts = field(default_factory=Timeouts)
    seed_sql: Path | None = None
    seed_csv: list[str] = field(default_factory=list)
    generate_rows: int = 0
    rollback_test: bool = True
    runner_id: str = "rehearsal"


@dataclass
class RollbackTest:
    status: str = "not run"  # passed, failed, missing, not run
    ran: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class Rehearsal:
    files: list[dict[str, str]] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    scratch_database: str = ""
    server_version: int = 0
    target_tables: dict[str, TableSize] = field(default_factory=dict)
    seed: seed.SeedReport = field(default_factory=seed.SeedReport)
    statements: list[StatementTrace] = field(default_factory=list)
    reconciliation: list[reconcile.Outcome] = field(default_factory=list)
    rollback: RollbackTest = field(default_factory=RollbackTest)
    error: str = ""
    error_code: int = 0
    scratch_dropped: bool = False
    phases_ms: dict[str, float] = field(default_factory=dict)
    # The signed verdict whose files were rehearsed (``--verdict``), when given.
    verdict: dict[str, str] | None = None

    def problems(self, *, require_rollback: bool) -> list[str]:
        out = [f"reconciliation {o.line()}" for o in self.reconciliation if not o.passed]
        if self.rollback.status == "failed":
            out.append(
                "rollback test failed: "
                + (self.rollback.error or "schema after rollback differs from before:")
            )
            out.extend(f"  {line}" for line in self.rollback.diff)
        if self.rollback.status == "missing" and require_rollback:
            out.append("rollback missing: " + "; ".join(self.rollback.missing))
        return out

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["statements"] = [{**asdict(t), "lock_lines": t.lock_lines()} for t in self.statements]
        doc["seed"]["total_rows"] = self.seed.total_rows
        doc["seed"]["total_bytes"] = self.seed.total_bytes
        return doc


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000.0, 1)


def _connect(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(dsn, autocommit=True, prepare_threshold=None)


def _excluded(conn: psycopg.Connection[tuple[object, ...]], tables: list[str]) -> set[str]:
    """Regclass names of the runner's history tables and their indexes."""
    names: set[str] = set()
    for t in tables:
        for (name,) in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = to_regclass(%s)"
            " UNION SELECT i.indexrelid::regclass::text FROM pg_index i"
            " WHERE i.indrelid = to_regclass(%s)",
            (t, t),
        ).fetchall():
            names.add(str(name))
    return names


def rehearse(
    migrations: list[Migration],
    opts: Options,
    *,
    stop: StopFlag | None = None,
    out: TextIO | None = None,
) -> Rehearsal:
    """Rehearse ``migrations`` (read and hashed by the caller); never raises after the
    scratch exists without dropping it first. RunnerErrors before that propagate."""
    say = out or sys.stderr
    stop = stop or StopFlag()
    result = Rehearsal(
        files=[{"path": m.path, "sha256": m.sha256, "version": m.version} for m in migrations]
    )
    checks = {m.path: reconcile.checks_of(m.path, m.data) for m in migrations}
    target = read_target(opts.target_dsn, opts.history_table)
    result.target_tables = target.tables
    scratch = Scratch(
        target_dsn=opts.target_dsn,
        admin_dsn=opts.scratch_dsn,
        target=target,
        history_table=opts.history_table,
    )
    t0 = time.monotonic()
    scratch.__enter__()
    try:
        result.phases_ms["build_scratch"] = _ms(t0)
        result.scratch_database = scratch.name
        result.server_version = scratch.server_version
        print(f"scratch database {scratch.name} built from the target's schema", file=say)
        try:
            _rehearse_in(
                scratch.dsn,
                migrations=migrations,
                checks=checks,
                opts=opts,
                result=result,
                stop=stop,
                say=say,
            )
        except RunnerError as exc:
            result.error, result.error_code = str(exc), exc.exit_code
    finally:
        t1 = time.monotonic()
        scratch.drop()
        result.phases_ms["drop_scratch"] = _ms(t1)
    result.scratch_dropped = scratch.dropped
    return result


def _rehearse_in(
    dsn: str,
    *,
    migrations: list[Migration],
    checks: dict[str, list[Check]],
    opts: Options,
    result: Rehearsal,
    stop: StopFlag,
    say: TextIO,
) -> None:
    conn = _connect(dsn)
    with conn:
        history = History(conn, opts.history_table)
        history.ensure()
        back_history = History(conn, ROLLBACK_HISTORY)
        back_history.ensure()
        excluded = _excluded(conn, [opts.history_table, ROLLBACK_HISTORY])
        skip = {n for n in excluded}
        t0 = time.monotonic()
        if opts.seed_sql is not None:
            seed.seed_sql(dsn, opts.seed_sql)
            result.seed.sources.append(f"sql {opts.seed_sql}")
        for spec in opts.seed_csv:
            result.seed.sources.append(seed.seed_csv(conn, spec))
        if opts.generate_rows > 0:
            seed.generate(conn, opts.generate_rows, skip=skip, report=result.seed)
            result.seed.sources.append(f"generated up to {opts.generate_rows} rows per table")
        seed.measure(conn, result.seed, skip=skip)
        result.phases_ms["seed"] = _ms(t0)

        version = conn.info.server_version
        for m in migrations:
            m.steps = plan(m, server_version=version)
        tracer = Tracer(conn, exclude=excluded, sampler_dsn=dsn)
        reconciler = reconcile.Reconciler(conn, opts.timeouts.statement_timeout)
        applier = Applier(
            conn, history, runner_id=opts.runner_id, stop=stop, out=say, observer=tracer
        )
        rows = applier.validate(migrations)
        pending = [m for m in migrations if not (rows[m.path] and rows[m.path].success)]  # type: ignore[union-attr]
        result.pending = [m.path for m in pending]
        reconciler.checks = {m.path: checks[m.path] for m in pending if checks[m.path]}

        def after_batch(m: Migration, s: Statement) -> None:
            reconciler.verify(m.path, f"after backfill (line {s.line})")

        tracer.on_batch_done = after_batch
        reconciler.take_baseline()
        before = snapshot.snapshot(conn, exclude=[opts.history_table, ROLLBACK_HISTORY])
        applied: list[Migration] = []
        t0 = time.monotonic()
        try:
            for m in pending:
                reconciler.before(m.path)
                run = applier.apply([m], rows)
                tracer.settle(run)
                if run.error is not None:
                    raise run.error
                applied.append(m)
                reconciler.verify(m.path, "after migration")
        finally:
            tracer.close()
            result.statements = tracer.traces
            result.reconciliation = reconciler.outcomes
            result.phases_ms["apply"] = _ms(t0)
        if opts.rollback_test and applied:
            t0 = time.monotonic()
            _rollback_test(
                conn,
                applied=applied,
                opts=opts,
                result=result,
                before=before,
                reconciler=reconciler,
                stop=stop,
                say=say,
            )
            result.reconciliation = reconciler.outcomes
            result.phases_ms["rollback_test"] = _ms(t0)


def _rollback_test(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    applied: list[Migration],
    opts: Options,
    result: Rehearsal,
    before: snapshot.Snapshot,
    reconciler: reconcile.Reconciler,
    stop: StopFlag,
    say: TextIO,
) -> None:
    test = result.rollback
    sources = [(m, rollback_for(m.path, m.data)) for m in reversed(applied)]
    test.missing = [f"{m.path}: {src.why}" for m, src in sources if src.path is None]
    if test.missing:
        test.status = "missing"
        return
    version = conn.info.server_version
    downs: list[Migration] = []
    for i, (_m, src) in enumerate(sources):
        assert src.path is not None
        down = load(src.path, opts.timeouts, server_version=version)
        down.version = f"rollback-{i:04d}-{down.version}"
        downs.append(down)
    applier = Applier(
        conn, History(conn, ROLLBACK_HISTORY), runner_id=opts.runner_id, stop=stop, out=say
    )
    rows = applier.validate(downs)
    run = applier.apply(downs, rows)
    test.ran = [d.path for d in downs]
    if isinstance(run.error, Interrupted):
        raise run.error
    if run.error is not None:
        test.status, test.error = "failed", f"the rollback failed: {run.error}"
        return
    after = snapshot.snapshot(conn, exclude=[opts.history_table, ROLLBACK_HISTORY])
    test.diff = snapshot.diff(before, after)
    reconciler.verify_rollback()
    test.status = "failed" if test.diff else "passed"
