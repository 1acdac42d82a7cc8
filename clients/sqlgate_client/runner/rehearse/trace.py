"""Per-statement measurements taken on the applier's own backend while it applies.

After each statement, still inside its transaction, the tracer reads the relation
locks its backend holds (``pg_locks`` joined to ``pg_class``); a lock not held before
the statement was taken by it and is held until the step commits, so its measured
hold time runs from the statement's start to the commit. Rewrites are measured, not
guessed: a table or index whose ``relfilenode`` changed across the statement was
rewritten (or truncated) by it. Statements PostgreSQL runs only in autocommit (``CREATE
INDEX CONCURRENTLY`` ...) release their locks when they end: for those a second session
samples ``pg_locks`` of the applier's backend every few milliseconds while the statement
runs, so their locks are measured too, with hold times accurate to the sampling interval
(``until`` is ``statement end (sampled)``; a lock held for less than one interval can be
missed, which the report's note says). Locks on TOAST relations
(a table's out-of-line storage, e.g. created by the first ADD COLUMN of a text column)
are left out: they follow their table's.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import psycopg

from sqlgate_client.runner.apply import RunResult, StatementResult
from sqlgate_client.runner.migrations import Migration, Step
from sqlgate_client.sqlsplit import Statement

Connection = psycopg.Connection[tuple[object, ...]]

_LOCKS = (
    "SELECT l.relation::bigint,"
    " coalesce(c.oid::regclass::text, 'a relation dropped here (oid ' || l.relation || ')'),"
    " coalesce(c.relkind::text, ''), l.mode, l.granted"
    " FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation"
    " WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND coalesce(c.relnamespace NOT IN ('pg_catalog'::regnamespace,"
    " 'information_schema'::regnamespace, 'pg_toast'::regnamespace), true)"
)
_FILES = (
    "SELECT c.oid::bigint, c.oid::regclass::text, c.relkind::text, c.relfilenode::bigint"
    " FROM pg_class c WHERE c.relkind IN ('r', 'p', 'm', 'i', 't')"
    " AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"
    " AND c.relfilenode <> 0"
)
_KINDS = {"r": "table", "p": "table", "m": "materialized view", "i": "index", "t": "toast"}


def lock_mode(pg_mode: str) -> str:
    """``AccessExclusiveLock`` -> ``ACCESS EXCLUSIVE`` (the names in the docs and rules)."""
    words = re.findall(r"[A-Z][a-z]*", pg_mode.removesuffix("Lock"))
    return " ".join(words).upper()


@dataclass
class LockHeld:
    relation: str
    kind: str
    mode: str
    granted: bool
    created: bool  # the relation did not exist before the statement (a new table's lock)
    until: str = "commit"  # "commit", "rollback", "statement end"
    held_ms: float = 0.0


@dataclass
class Rewrite:
    relation: str
    kind: str
    relfilenode_before: int
    relfilenode_after: int
    bytes_after: int = 0


@dataclass
class Chunk:
    number: int
    rows: int
    duration_ms: float


@dataclass
class StatementTrace:
    file: str
    index: int
    line: int
    sql: str
    in_transaction: bool = True
    duration_ms: float = 0.0
    rows: int = -1
    outcome: str = "not run"
    error: str = ""
    locks: list[LockHeld] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    note: str = ""

    def lock_lines(self) -> list[str]:
        return [
            f"holds {lk.mode} on {lk.relation}{' (created here)' if lk.created else ''} from "
            f"statement {self.index + 1} (line {self.line}) until {lk.until}: "
            f"{lk.held_ms:.0f} ms"
            for lk in self.locks
        ]


_SAMPLE = (
    "SELECT coalesce(c.oid::regclass::text, 'oid ' || l.relation), coalesce(c.relkind::text, ''),"
    " l.mode, l.granted FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation"
    " WHERE l.pid = %s AND l.locktype = 'relation'"
    " AND coalesce(c.relnamespace NOT IN ('pg_catalog'::regnamespace,"
    " 'information_schema'::regnamespace, 'pg_toast'::regnamespace), true)"
)
SAMPLE_INTERVAL_S = 0.005


class LockSampler:
    """Polls another backend's relation locks from its own session until stopped."""

    def __init__(self, dsn: str, pid: int) -> None:
        self.conn: Connection = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
        self.pid = pid
        self.seen: dict[tuple[str, str, str], list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lock-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                for name, kind, mode, granted in self.conn.execute(_SAMPLE, (self.pid,)):
                    if granted:
                        span = self.seen.setdefault((str(name), str(kind), str(mode)), [now, now])
                        span[1] = now
                self._stop.wait(SAMPLE_INTERVAL_S)
        except psycopg.Error:
            return  # a sampler failure loses samples, never the rehearsal

    def stop(self) -> list[LockHeld]:
        self._stop.set()
        self._thread.join(timeout=10)
        self.conn.close()
        return [
            LockHeld(
                name,
                _KINDS.get(kind, kind or "relation"),
                lock_mode(mode),
                True,
                created=False,
                until="statement end (sampled)",
                held_ms=round((last - first) * 1000.0 + SAMPLE_INTERVAL_S * 1000.0, 3),
            )
            for (name, kind, mode), (first, last) in sorted(self.seen.items())
        ]


class Tracer:
    """The :class:`~sqlgate_client.runner.apply.Observer` of a rehearsal."""

    def __init__(
        self, conn: Connection, *, exclude: Collection[str] = (), sampler_dsn: str | None = None
    ) -> None:
        self.conn = conn
        self.sampler_dsn = sampler_dsn
        self._sampler: LockSampler | None = None
        self.exclude = set(exclude)
        self.traces: list[StatementTrace] = []
        self._files: dict[int, tuple[str, str, int]] = {}
        self._held: set[tuple[int, str]] = set()
        self._open: list[tuple[StatementTrace, LockHeld, float]] = []
        self._current: StatementTrace | None = None
        self._t0 = 0.0
        self.on_batch_done: Callable[[Migration, Statement], None] | None = None

    def _relfilenodes(self) -> dict[int, tuple[str, str, int]]:
        rows = self.conn.execute(_FILES).fetchall()
        return {
            int(str(oid)): (str(name), str(kind), int(str(node)))
            for oid, name, kind, node in rows
            if str(name) not in self.exclude
        }

    def before_statement(self, m: Migration, s: Statement) -> None:
        text = " ".join(s.text.split())
        self._current = StatementTrace(m.path, s.index, s.line, text[:300])
        self.traces.append(self._current)
        self._files = self._relfilenodes()
        idle = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if self.sampler_dsn and idle and s.batch is None:
            self._sampler = LockSampler(self.sampler_dsn, self.conn.info.backend_pid)
            self._sampler.start()
        self._t0 = time.monotonic()

    def after_statement(
        self, m: Migration, s: Statement, r: StatementResult, *, in_transaction: bool
    ) -> None:
        cur = self._current
        if cur is None:
            return
        sampled = self._sampler.stop() if self._sampler is not None else None
        self._sampler = None
        cur.in_transaction = in_transaction
        cur.duration_ms, cur.rows, cur.outcome = r.duration_ms, r.rows, r.outcome
        if in_transaction:
            for oid, name, kind, mode, granted in self.conn.execute(_LOCKS).fetchall():
                key = (int(str(oid)), str(mode))
                if str(name) in self.exclude or key in self._held:
                    continue
                self._held.add(key)
                lk = LockHeld(
                    str(name),
                    _KINDS.get(str(kind), str(kind) or "relation"),
                    lock_mode(str(mode)),
                    bool(granted),
                    created=key[0] not in self._files,
                )
                cur.locks.append(lk)
                self._open.append((cur, lk, self._t0))
        elif s.batch is not None:
            cur.note = "batched: each chunk is its own short transaction (row locks per chunk)"
            if self.on_batch_done is not None:
                self.on_batch_done(m, s)
        elif sampled is not None:
            cur.locks = [lk for lk in sampled if lk.relation not in self.exclude]
            cur.note = (
                "ran in autocommit: locks sampled from a second session every "
                f"{SAMPLE_INTERVAL_S * 1000:.0f} ms while it ran (a shorter lock can be missed)"
            )
        else:
            cur.note = (
                "ran in autocommit: its locks are released when it ends (held for at most "
                "its duration) and are not observable from its own backend afterwards"
            )
        after = self._relfilenodes()
        for oid, (name, kind, node) in sorted(self._files.items()):
            now = after.get(oid)
            if now is not None and now[2] != node:
                size = self.conn.execute("SELECT pg_relation_size(%s::oid)", (oid,)).fetchone()
                cur.rewrites.append(
                    Rewrite(
                        name, _KINDS.get(kind, kind), node, now[2], int(str(size[0])) if size else 0
                    )
                )

    def after_chunk(
        self, m: Migration, s: Statement, chunk: int, rows: int, duration_ms: float
    ) -> None:
        if self._current is not None:
            self._current.chunks.append(Chunk(chunk, rows, duration_ms))

    def close(self) -> None:
        """Stop a sampler left running by a statement that failed (no after_statement)."""
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None

    def settle(self, run: RunResult) -> None:
        """Final outcomes from the applier (a statement rolled back after it ran is
        ``aborted``; the failing or interrupted one keeps its error and rows so far)."""
        self.close()
        final = {(s.file, s.index): s for f in run.files for s in f.statements}
        for t in self.traces:
            r = final.get((t.file, t.index))
            if r is not None and r.outcome != "skipped":
                t.outcome, t.error = r.outcome, r.error
                t.rows, t.duration_ms = r.rows, r.duration_ms or t.duration_ms

    def step_ended(self, m: Migration, step: Step, *, committed: bool) -> None:
        end = time.monotonic()
        for _trace, lk, start in self._open:
            lk.until = "commit" if committed else "rollback"
            lk.held_ms = round((end - start) * 1000.0, 3)
        self._open.clear()
        self._held.clear()
