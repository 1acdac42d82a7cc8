"""Applying planned migrations to PostgreSQL, safely and resumably.

Transaction steps run in one transaction with ``SET LOCAL lock_timeout`` and
``statement_timeout``; their history progress is written in that same transaction,
so a failure rolls back the work and its record together. Statements PostgreSQL
refuses inside a transaction run alone in autocommit with session-level timeouts;
if one fails, any index it left INVALID (a failed ``CREATE INDEX CONCURRENTLY`` or
``REINDEX CONCURRENTLY``) is found by comparing ``pg_index.indisvalid`` before and
after and dropped with ``DROP INDEX CONCURRENTLY IF EXISTS``. Batched backfills run
chunk by chunk, each chunk and its recorded position in one short transaction; a
SIGINT/SIGTERM lets the current chunk (or statement) finish, then stops cleanly.

Each reviewed statement is sent alone through the extended protocol (``execute``
below): one Parse message cannot carry two statements, so text that PostgreSQL would
lex differently from the reviewer can at worst fail, never become a second statement.
After each statement the session's lexer settings are read back (``session.check``);
a statement that changed one stops the run (its transaction rolled back).
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import Literal, Protocol, TextIO

import psycopg
from psycopg import sql

from sqlgate_client.runner import concurrent_index, session
from sqlgate_client.runner.batch import rewrite
from sqlgate_client.runner.errors import (
    Interrupted,
    RunnerError,
    SessionSettingsRefused,
    SqlFailed,
    UnsupportedSql,
)
from sqlgate_client.runner.history import History, HistoryRow
from sqlgate_client.runner.migrations import Migration, Step, Timeouts
from sqlgate_client.sqlsplit import Statement

Outcome = Literal["succeeded", "failed", "skipped", "aborted"]
Connection = psycopg.Connection[tuple[object, ...]]


class StopFlag:
    """Set by SIGINT/SIGTERM; the runner checks it between chunks and statements."""

    def __init__(self) -> None:
        self.requested: str | None = None

    def install(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.requested = signal.Signals(signum).name

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


@dataclass
class StatementResult:
    file: str
    index: int
    line: int
    outcome: Outcome
    duration_ms: float = 0.0
    rows: int = -1
    error: str = ""


@dataclass
class FileResult:
    path: str
    version: str
    outcome: Literal["applied", "skipped", "failed", "interrupted", "not_run"]
    statements: list[StatementResult] = field(default_factory=list)
    dropped_invalid_indexes: list[str] = field(default_factory=list)
    chunks: int = 0


@dataclass
class RunResult:
    files: list[FileResult] = field(default_factory=list)
    error: RunnerError | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def outcome(self) -> Literal["succeeded", "failed", "aborted", "skipped"]:
        if isinstance(self.error, Interrupted):
            return "aborted"
        if self.error is not None:
            return "failed"
        if all(f.outcome == "skipped" for f in self.files):
            return "skipped"
        return "succeeded"


class Observer(Protocol):
    """Watches an apply on the applier's own connection (``sqlgate-runner rehearse``).

    Called between the applier's own statements, so what it reads (``pg_locks`` of
    this backend, ``pg_class.relfilenode``) is the state the statement left inside
    its transaction; the apply path itself stays the one the real run uses.
    """

    def before_statement(self, m: Migration, s: Statement) -> None: ...

    def after_statement(
        self, m: Migration, s: Statement, r: StatementResult, *, in_transaction: bool
    ) -> None: ...

    def after_chunk(
        self, m: Migration, s: Statement, chunk: int, rows: int, duration_ms: float
    ) -> None: ...

    def step_ended(self, m: Migration, step: Step, *, committed: bool) -> None: ...


class _StepFailed(Exception):
    def __init__(self, error: RunnerError) -> None:
        self.error = error


def _set_timeouts(conn: Connection, t: Timeouts, *, local: bool) -> None:
    scope = sql.SQL("SET LOCAL " if local else "SET ")
    conn.execute(scope + sql.SQL("lock_timeout = ") + sql.Literal(t.lock_timeout))
    conn.execute(scope + sql.SQL("statement_timeout = ") + sql.Literal(t.statement_timeout))


def execute(conn: Connection, statement: Statement) -> psycopg.Cursor[tuple[object, ...]]:
    """One statement, alone, through the extended protocol (Parse/Bind/Execute).

    ``binary=True`` is what makes psycopg use the extended protocol for a query without
    parameters (the simple protocol would accept ``a; b`` as two statements).
    """
    return conn.execute(statement.text.encode(), binary=True)


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000.0, 3)


def _sql_error(exc: psycopg.Error) -> str:
    diag = exc.diag
    code = f" [{diag.sqlstate}]" if diag.sqlstate else ""
    return f"{diag.message_primary or str(exc).strip()}{code}"


class Applier:
    """Applies migrations over one autocommit connection that holds the run lock."""

    def __init__(
        self,
        conn: Connection,
        history: History,
        *,
        runner_id: str,
        verdict_id: str = "",
        token_id: str = "",
        stop: StopFlag | None = None,
        out: TextIO | None = None,
        observer: Observer | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        if not conn.autocommit:
            raise ValueError("the runner's connection must be in autocommit mode")
        self.conn = conn
        self.history = history
        self.runner_id = runner_id
        self.verdict_id = verdict_id
        self.token_id = token_id
        self.stop = stop or StopFlag()
        self.out = out or sys.stderr
        self.observer = observer
        # The pinned lexer settings (session.pin); None: not checked (unit tests only).
        self.settings = dict(settings) if settings is not None else None

    def _check_settings(self, m: Migration, s: Statement) -> None:
        if self.settings is not None:
            session.check(self.conn, self.settings, f"after {m.path}:{s.line}")

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def validate(self, migrations: list[Migration]) -> dict[str, HistoryRow | None]:
        """History check for every file before anything runs (HistoryConflict on changes)."""
        seen: dict[str, str] = {}
        rows: dict[str, HistoryRow | None] = {}
        for m in migrations:
            if m.version in seen:
                raise UnsupportedSql(
                    f"{m.path}: version {m.version} also used by {seen[m.version]}"
                )
            seen[m.version] = m.path
            rows[m.path] = self.history.validate(m.version, m.path, m.sha256)
        return rows

    def apply(self, migrations: list[Migration], rows: dict[str, HistoryRow | None]) -> RunResult:
        """Apply in order; stops at the first failure or interruption (see RunResult.error)."""
        result = RunResult()
        stopped = False
        for m in migrations:
            if stopped:
                result.files.append(self._not_run(m, "not run: an earlier migration stopped"))
                continue
            row = rows.get(m.path)
            if row is not None and row.success:
                fr = self._not_run(m, "already applied", outcome="skipped")
                result.files.append(fr)
                self._say(f"skip {m.path} (version {m.version} already applied)")
                continue
            fr, error = self._apply_file(m, row)
            result.files.append(fr)
            if error is not None:
                result.error = error
                stopped = True
        result.finished_at = datetime.now(UTC)
        return result

    def _not_run(
        self, m: Migration, why: str, outcome: Literal["skipped", "not_run"] = "not_run"
    ) -> FileResult:
        fr = FileResult(m.path, m.version, outcome)
        fr.statements = [
            StatementResult(m.path, s.index, s.line, "skipped", error=why) for s in m.statements
        ]
        return fr

    def _apply_file(
        self, m: Migration, row: HistoryRow | None
    ) -> tuple[FileResult, RunnerError | None]:
        fr = FileResult(m.path, m.version, "applied")
        done = row.statements_done if row is not None else 0
        results = {
            s.index: StatementResult(m.path, s.index, s.line, "skipped", error="not run")
            for s in m.statements
        }
        for s in m.statements:
            if s.index < done:
                results[s.index].error = "applied by an earlier run"
        started = time.monotonic()
        self.history.start(
            version=m.version,
            path=m.path,
            sha256=m.sha256,
            total=len(m.statements),
            verdict_id=self.verdict_id,
            token_id=self.token_id,
            runner_id=self.runner_id,
            started_at=datetime.now(UTC),
        )
        self._say(f"apply {m.path} (version {m.version}, {len(m.statements)} statements)")
        error: RunnerError | None = None
        try:
            for step in m.steps:
                if step.statements[-1].index < done:
                    continue
                if self.stop.requested:
                    raise _StepFailed(
                        Interrupted(
                            f"{self.stop.requested}: stopped before {m.path}:"
                            f"{step.statements[0].line}; rerun to continue"
                        )
                    )
                if step.kind == "transaction":
                    self._run_transaction(m, step, results)
                elif step.kind == "alone":
                    self._run_alone(
                        m,
                        step.statements[0],
                        results,
                        fr,
                        resumed=row.statements_done if row is not None else None,
                    )
                else:
                    self._run_batch(m, step.statements[0], row, results, fr)
        except _StepFailed as failed:
            error = failed.error
        fr.statements = [results[s.index] for s in m.statements]
        duration = int((time.monotonic() - started) * 1000)
        if error is None:
            self.history.finish(m.version, success=True, duration_ms=duration, error=None)
            self._say(f"applied {m.path} in {duration} ms")
        else:
            fr.outcome = "interrupted" if isinstance(error, Interrupted) else "failed"
            self.history.finish(m.version, success=False, duration_ms=duration, error=str(error))
            self._say(f"stopped {m.path}: {error}")
        return fr, error

    def _run_transaction(
        self, m: Migration, step: Step, results: dict[int, StatementResult]
    ) -> None:
        ran: list[int] = []
        try:
            with self.conn.transaction():
                _set_timeouts(self.conn, m.timeouts, local=True)
                for s in step.statements:
                    if self.observer is not None:
                        self.observer.before_statement(m, s)
                    t0 = time.monotonic()
                    try:
                        cur = execute(self.conn, s)
                    except psycopg.Error as exc:
                        r = results[s.index]
                        r.outcome, r.duration_ms, r.error = "failed", _ms(t0), _sql_error(exc)
                        raise
                    r = results[s.index]
                    try:
                        self._check_settings(m, s)
                    except SessionSettingsRefused:
                        r.outcome, r.duration_ms, r.error = "failed", _ms(t0), "changed settings"
                        raise
                    r.outcome, r.duration_ms, r.rows, r.error = (
                        "succeeded",
                        _ms(t0),
                        cur.rowcount,
                        "",
                    )
                    ran.append(s.index)
                    if self.observer is not None:
                        self.observer.after_statement(m, s, r, in_transaction=True)
                self.history.progress(m.version, step.statements[-1].index + 1)
        except SessionSettingsRefused as exc:
            if self.observer is not None:
                self.observer.step_ended(m, step, committed=False)
            for i in ran:
                results[i].outcome = "aborted"
                results[i].error = "rolled back"
            raise _StepFailed(
                SessionSettingsRefused(
                    f"{m.path}: {exc}; the transaction was rolled back ({len(ran)} earlier "
                    "statement(s) in it undone)"
                )
            ) from exc
        except psycopg.Error as exc:
            if self.observer is not None:
                self.observer.step_ended(m, step, committed=False)
            for i in ran:
                results[i].outcome = "aborted"
                results[i].error = "rolled back"
            failed = next(s for s in step.statements if results[s.index].outcome == "failed")
            raise _StepFailed(
                SqlFailed(
                    f"{m.path}:{failed.line}: {_sql_error(exc)}; the transaction was rolled back "
                    f"({len(ran)} earlier statement(s) in it undone)"
                )
            ) from exc
        if self.observer is not None:
            self.observer.step_ended(m, step, committed=True)

    def _run_alone(
        self,
        m: Migration,
        s: Statement,
        results: dict[int, StatementResult],
        fr: FileResult,
        *,
        resumed: int | None = None,
    ) -> None:
        r = results[s.index]
        index = concurrent_index.target_of(s)
        if index is not None and self._recover_index(m, s, index, r, fr, resumed=resumed):
            return
        _set_timeouts(self.conn, m.timeouts, local=False)
        if self.observer is not None:
            self.observer.before_statement(m, s)
        t0 = time.monotonic()
        try:
            cur = execute(self.conn, s)
            r.outcome, r.duration_ms, r.rows, r.error = "succeeded", _ms(t0), cur.rowcount, ""
            self._check_settings(m, s)
            if self.observer is not None:
                self.observer.after_statement(m, s, r, in_transaction=False)
        except SessionSettingsRefused as exc:
            raise _StepFailed(exc) from exc
        except psycopg.Error as exc:
            r.outcome, r.duration_ms, r.error = "failed", _ms(t0), _sql_error(exc)
            undropped: list[str] = []
            # Only the index this statement names, never another invalid one elsewhere;
            # with the connection gone the next run's recovery does it.
            if index is not None and not (self.conn.broken or self.conn.closed):
                try:
                    found, name = concurrent_index.state(self.conn, index)
                    if found == "invalid":
                        concurrent_index.drop_invalid(self.conn, name)
                        fr.dropped_invalid_indexes.append(name)
                        self._say(f"dropped invalid index {name} left by the failed statement")
                except psycopg.Error as drop_exc:
                    undropped.append(f"{index.name} ({_sql_error(drop_exc)})")
            note = ""
            if fr.dropped_invalid_indexes:
                note += f"; dropped invalid index(es) {', '.join(fr.dropped_invalid_indexes)}"
            if undropped:
                note += f"; INVALID index(es) left behind, drop them: {', '.join(undropped)}"
            ran = [i for i, x in results.items() if x.outcome == "succeeded"]
            raise _StepFailed(
                SqlFailed(
                    f"{m.path}:{s.line}: {_sql_error(exc)} (non-transactional statement; "
                    f"statements that ran: {ran or 'none'}){note}"
                )
            ) from exc
        finally:
            self.conn.execute("RESET lock_timeout")
            self.conn.execute("RESET statement_timeout")
        self.history.progress(m.version, s.index + 1)

    def _recover_index(
        self,
        m: Migration,
        s: Statement,
        index: concurrent_index.IndexTarget,
        r: StatementResult,
        fr: FileResult,
        *,
        resumed: int | None,
    ) -> bool:
        """Before a named CREATE INDEX CONCURRENTLY: drop the INVALID index an interrupted
        earlier run of it left; True (statement done, not run again) when an earlier run of
        this migration reached it and its index is there and valid."""
        found, name = concurrent_index.state(self.conn, index)
        if found == "invalid":
            concurrent_index.drop_invalid(self.conn, name)
            fr.dropped_invalid_indexes.append(name)
            self._say(f"dropped invalid index {name} left by an interrupted earlier run")
            return False
        if found == "valid" and resumed == s.index:
            r.outcome, r.error = "succeeded", f"index {name} was completed by an earlier run"
            self._say(f"{m.path}:{s.line}: index {name} already built by an interrupted run")
            self.history.progress(m.version, s.index + 1)
            return True
        return False

    def _run_batch(
        self,
        m: Migration,
        s: Statement,
        row: HistoryRow | None,
        results: dict[int, StatementResult],
        fr: FileResult,
    ) -> None:
        assert s.batch is not None
        r = results[s.index]
        last = row.batch_position if row is not None and row.batch_statement == s.index else None
        total_rows = 0
        t_start = time.monotonic()
        try:
            chunked = rewrite(s, m.path)
            has_nulls = self.conn.execute(chunked.null_keys()).fetchone()
            if has_nulls and has_nulls[0]:
                raise _StepFailed(
                    UnsupportedSql(
                        f"{m.path}:{s.line}: batch key {s.batch.key} has NULL values; key ranges "
                        "would skip those rows"
                    )
                )
            if last is not None:
                self._say(f"batch {m.path}:{s.line} resuming after {s.batch.key}={last}")
            if self.observer is not None:
                self.observer.before_statement(m, s)
            while True:
                t0 = time.monotonic()
                with self.conn.transaction():
                    _set_timeouts(self.conn, m.timeouts, local=True)
                    found = self.conn.execute(chunked.boundary(last)).fetchone()
                    if found is None:  # fewer than size keys left: up to the last one
                        found = self.conn.execute(chunked.max_key(last)).fetchone()
                    upper = None if found is None or found[0] is None else str(found[0])
                    if upper is None:
                        break
                    cur = self.conn.execute(chunked.chunk(last, upper))
                    rows = max(cur.rowcount, 0)
                    self._check_settings(m, s)
                    self.history.batch_progress(m.version, s.index, upper, rows)
                last = upper
                total_rows += rows
                fr.chunks += 1
                if self.observer is not None:
                    self.observer.after_chunk(m, s, fr.chunks, rows, _ms(t0))
                self._say(
                    f"batch {m.path}:{s.line} chunk {fr.chunks}: {rows} rows, "
                    f"{s.batch.key} <= {upper}, {_ms(t0):.0f} ms "
                    f"(total {total_rows} rows, {time.monotonic() - t_start:.1f} s)"
                )
                if self.stop.requested:
                    r.outcome, r.rows = "aborted", total_rows
                    r.duration_ms = _ms(t_start)
                    r.error = f"interrupted after {s.batch.key}={last}"
                    raise _StepFailed(
                        Interrupted(
                            f"{self.stop.requested}: batch {m.path}:{s.line} stopped after "
                            f"{s.batch.key}={last} ({fr.chunks} chunk(s) this run); rerun to "
                            "resume from there"
                        )
                    )
                if s.batch.pause_ms:
                    time.sleep(s.batch.pause_ms / 1000.0)
        except psycopg.Error as exc:
            r.outcome, r.rows, r.error = "failed", total_rows, _sql_error(exc)
            r.duration_ms = _ms(t_start)
            raise _StepFailed(
                SqlFailed(
                    f"{m.path}:{s.line}: batch chunk failed after {s.batch.key}={last}: "
                    f"{_sql_error(exc)} (committed chunks stay; rerun resumes)"
                )
            ) from exc
        except (UnsupportedSql, SessionSettingsRefused) as exc:
            raise _StepFailed(exc) from exc
        r.outcome, r.rows, r.duration_ms, r.error = "succeeded", total_rows, _ms(t_start), ""
        if self.observer is not None:
            self.observer.after_statement(m, s, r, in_transaction=False)
        self.history.progress(m.version, s.index + 1)
