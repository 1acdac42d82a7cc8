"""PostgreSQL backend: the shared store when several sqlgate replicas run.

Atomicity comes from PostgreSQL, not from this process: redemption is one conditional
UPDATE (a concurrent second UPDATE re-checks ``redeemed_at IS NULL`` on the committed row
and matches nothing), and audit appends and schema migrations take a transaction-scoped
advisory lock. Connections come from a small built-in pool so the service's threads do
not share one session; an optional ``schema`` keeps sqlgate's tables in their own
PostgreSQL schema (created if missing).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql as pg_sql

from sqlgate.errors import StoreError
from sqlgate.store.sql import Duplicate, Row, SqlStore, Tx

_POOL_SIZE = 8


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class _PgTx:
    def __init__(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        cur = self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return list(cur.fetchall()) if cur.description is not None else []


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database given by a libpq DSN or URL."""

    backend = "postgres"

    def __init__(self, dsn: str, *, schema: str | None = None, pool_size: int = _POOL_SIZE) -> None:
        self.dsn = dsn
        self.schema = schema
        self._idle: list[psycopg.Connection[tuple[object, ...]]] = []
        self._all: list[psycopg.Connection[tuple[object, ...]]] = []
        self._mutex = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False
        self._migrate()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the PostgreSQL store: {exc}") from exc
        if self.schema is not None:
            conn.execute(pg_sql.SQL("SET search_path TO {}").format(pg_sql.Identifier(self.schema)))
        return conn

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        if self._closed:
            raise StoreError("the PostgreSQL store is closed")
        with self._slots:
            with self._mutex:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = self._connect()
                with self._mutex:
                    self._all.append(conn)
            healthy = False
            try:
                yield conn
                healthy = True
            finally:
                idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
                with self._mutex:
                    if healthy and idle and not conn.closed and not self._closed:
                        self._idle.append(conn)
                    else:
                        self._all.remove(conn)
                        conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[Tx]:
        try:
            with self._connection() as conn, conn.transaction():
                yield _PgTx(conn)
        except pg_errors.UniqueViolation as exc:
            raise Duplicate(str(exc).strip()) from exc
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store: {str(exc).strip()}") from exc

    def _write(self) -> AbstractContextManager[Tx]:
        return self._transaction()

    def _read(self) -> AbstractContextManager[Tx]:
        return self._transaction()

    def _lock(self, tx: Tx, name: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(name),))

    def _prepare_schema(self, tx: Tx) -> None:
        if self.schema is not None:
            tx.execute(
                pg_sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
                .format(pg_sql.Identifier(self.schema))
                .as_string(None)
            )

    def close(self) -> None:
        with self._mutex:
            self._closed = True
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._idle.clear()
