"""Per-statement measurements taken on the applier's own backend while it applies.

After each statement, still inside its transaction, the tracer reads the relation
locks its backend holds (``pg_locks`` joined to ``pg_class``); a lock not held before
the statement was taken by it and is held until the step commits, so its measured
hold time runs from the statement's start to the commit. Rewrites are measured, not
guessed: a table or index whose ``relfilenode`` changed across the statement was
rewritten (or truncated) by it. Statements PostgreSQL runs only in autocommit (``CREATE
INDEX CONCURRENTLY`` ...) release their locks when they end, so for those only the
duration and the rewrites are measured; the report says so. Locks on TOAST relations
(a table's out-of-line storage, e.g. created by the first ADD COLUMN of a text column)
are left out: they follow their table's.
"""

from __future__ import annotations

import re
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


class Tracer:
    """The :class:`~sqlgate_client.runner.apply.Observer` of a rehearsal."""

    def __init__(self, conn: Connection, *, exclude: Collection[str] = ()) -> None:
        self.conn = conn
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
        self._t0 = time.monotonic()

    def after_statement(
        self, m: Migration, s: Statement, r: StatementResult, *, in_transaction: bool
    ) -> None:
        cur = self._current
        if cur is None:
            return
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

    def settle(self, run: RunResult) -> None:
        """Final outcomes from the applier (a statement rolled back after it ran is
        ``aborted``; the failing or interrupted one keeps its error and rows so far)."""
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
