"""SQLite backend: the embedded default for a single node.

One connection per store, guarded by a lock (the service's threads share it); WAL so
readers never block the writer; every write starts with ``BEGIN IMMEDIATE`` so it holds
the database's write lock from its first statement — two processes on one file are
serialised by SQLite itself, which is what makes redemption and audit appends atomic.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlgate.errors import StoreError
from sqlgate.store.sql import Duplicate, Row, SqlStore, Tx

_BUSY_TIMEOUT_S = 30.0


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return list(self._conn.execute(sql, tuple(params)).fetchall())


class SqliteStore(SqlStore):
    """A store in one SQLite file (created, with its schema, if missing)."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite store {self.path}: {exc}") from exc
        self._mutex = threading.RLock()
        self._migrate()

    def close(self) -> None:
        with self._mutex:
            self._conn.close()

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        with self._mutex:
            try:
                self._conn.execute(begin)
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store {self.path}: {exc}") from exc
            try:
                yield _SqliteTx(self._conn)
            except sqlite3.IntegrityError as exc:
                self._conn.execute("ROLLBACK")
                if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                    raise Duplicate(str(exc)) from exc
                raise StoreError(f"SQLite store {self.path}: {exc}") from exc
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StoreError(f"SQLite store {self.path}: {exc}") from exc
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"SQLite store {self.path}: commit failed: {exc}") from exc

    def _write(self) -> AbstractContextManager[Tx]:
        return self._transaction("BEGIN IMMEDIATE")

    def _read(self) -> AbstractContextManager[Tx]:
        return self._transaction("BEGIN")

    def _lock(self, tx: Tx, name: str) -> None:
        """``BEGIN IMMEDIATE`` already holds the only write lock SQLite has."""

    def _prepare_schema(self, tx: Tx) -> None:
        """Nothing to prepare: one file is one schema."""
