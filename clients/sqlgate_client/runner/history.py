"""The schema history table in the target database, and the run's advisory lock.

One row per migration version: who ran it with which verdict and token, when, for
how long, whether it succeeded, how many of its statements are done and where a
batched backfill stands. Progress is written inside the same transaction as the
work it records, so a rolled-back step never looks done and a resumed run never
applies a committed step or chunk twice. Like Flyway's validate, a file whose bytes
differ from the recorded digest is refused before anything runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from sqlgate_client.runner.errors import HistoryConflict, LockBusy, SqlFailed, UsageError


@dataclass(frozen=True)
class HistoryRow:
    version: str
    path: str
    sha256: str
    success: bool
    statements_done: int
    batch_statement: int | None
    batch_position: str | None
    batch_rows: int


def parse_table(name: str) -> tuple[str, str]:
    """``schema.table`` -> (schema, table); plain identifiers only, to stay unambiguous."""
    parts = name.split(".")
    if len(parts) != 2 or not all(p and p.replace("_", "a").isalnum() for p in parts):
        raise UsageError(f"history table must be schema.table of plain identifiers: {name!r}")
    return parts[0], parts[1]


class History:
    """Access to ``<schema>.<table>`` over the runner's autocommit connection."""

    def __init__(self, conn: psycopg.Connection[tuple[object, ...]], table: str) -> None:
        self.conn = conn
        self.schema, self.table = parse_table(table)
        self.ident = sql.Identifier(self.schema, self.table)
        digest = hashlib.sha256(f"sqlgate-runner:{self.schema}.{self.table}".encode()).digest()
        self.lock_key = int.from_bytes(digest[:8], "big", signed=True)

    def lock(self) -> None:
        """Take the run's session advisory lock; another runner holding it is LockBusy."""
        row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_key,)).fetchone()
        if not row or row[0] is not True:
            raise LockBusy(
                f"another runner is applying migrations to this database "
                f"(advisory lock for {self.schema}.{self.table} is held)"
            )

    def unlock(self) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(%s)", (self.lock_key,))

    def preflight(self) -> None:
        """Refuse (SqlFailed) before redemption when the table cannot be created or written.

        ``ensure`` runs after the token is redeemed; a role without the privilege would
        otherwise burn the token and end in a driver traceback.
        """
        name = f"{self.schema}.{self.table}"
        if self.exists():
            query = (
                "SELECT has_table_privilege(%s, 'SELECT,INSERT,UPDATE')"
                " AND has_schema_privilege(%s, 'USAGE')"
            )
            params: tuple[str, ...] = (
                sql.Identifier(self.schema, self.table).as_string(self.conn),
                self.schema,
            )
            what = f"read and write the history table {name}"
        else:
            query = (
                "SELECT CASE WHEN to_regnamespace(%s) IS NULL"
                " THEN has_database_privilege(current_database(), 'CREATE')"
                " ELSE has_schema_privilege(%s, 'CREATE') END"
            )
            params = (sql.Identifier(self.schema).as_string(self.conn), self.schema)
            what = f"create the history table {name}"
        row = self.conn.execute(query, params).fetchone()
        if not row or row[0] is not True:
            raise SqlFailed(
                f"the runner's database role may not {what}: grant it, or create the table "
                "beforehand (docs/runner.md); the token was not redeemed"
            )

    def ensure(self) -> None:
        self.conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
        )
        self.conn.execute(
            sql.SQL(
                """CREATE TABLE IF NOT EXISTS {} (
                version text PRIMARY KEY,
                path text NOT NULL,
                sha256 text NOT NULL,
                verdict_id text,
                token_id text,
                runner_id text,
                started_at timestamptz,
                duration_ms bigint,
                success boolean NOT NULL DEFAULT false,
                statements_done integer NOT NULL DEFAULT 0,
                statements_total integer NOT NULL DEFAULT 0,
                batch_statement integer,
                batch_position text,
                batch_rows bigint NOT NULL DEFAULT 0,
                error text
            )"""
            ).format(self.ident)
        )

    def exists(self) -> bool:
        found = self.conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            (sql.Identifier(self.schema, self.table).as_string(self.conn),),
        ).fetchone()
        return bool(found and found[0])

    def get(self, version: str) -> HistoryRow | None:
        """The row for ``version``; None also when the table does not exist yet."""
        if not self.exists():
            return None
        row = self.conn.execute(
            sql.SQL(
                "SELECT version, path, sha256, success, statements_done, batch_statement,"
                " batch_position, batch_rows FROM {} WHERE version = %s"
            ).format(self.ident),
            (version,),
        ).fetchone()
        if row is None:
            return None
        return HistoryRow(
            version=str(row[0]),
            path=str(row[1]),
            sha256=str(row[2]),
            success=bool(row[3]),
            statements_done=int(str(row[4])),
            batch_statement=None if row[5] is None else int(str(row[5])),
            batch_position=None if row[6] is None else str(row[6]),
            batch_rows=int(str(row[7])),
        )

    def validate(self, version: str, path: str, sha256: str) -> HistoryRow | None:
        """The recorded row, after checking the bytes did not change since they (partly) ran."""
        row = self.get(version)
        if row is None:
            return None
        if row.sha256 != sha256 and (row.success or row.statements_done > 0 or row.batch_rows):
            raise HistoryConflict(
                f"{path}: version {version} was applied from bytes with sha256 {row.sha256}, "
                f"the file now hashes to {sha256}; an applied migration must not change"
            )
        return row

    def start(
        self,
        *,
        version: str,
        path: str,
        sha256: str,
        total: int,
        verdict_id: str,
        token_id: str,
        runner_id: str,
        started_at: datetime,
    ) -> None:
        """Record an attempt (insert, or refresh a failed/partial row keeping its progress)."""
        self.conn.execute(
            sql.SQL(
                """INSERT INTO {} (version, path, sha256, verdict_id, token_id, runner_id,
                       started_at, statements_total, success)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false)
                   ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path,
                       sha256 = EXCLUDED.sha256, verdict_id = EXCLUDED.verdict_id,
                       token_id = EXCLUDED.token_id, runner_id = EXCLUDED.runner_id,
                       started_at = EXCLUDED.started_at,
                       statements_total = EXCLUDED.statements_total, error = NULL"""
            ).format(self.ident),
            (version, path, sha256, verdict_id, token_id, runner_id, started_at, total),
        )

    def progress(self, version: str, statements_done: int) -> None:
        """Statements done so far; call inside the transaction that did them."""
        self.conn.execute(
            sql.SQL("UPDATE {} SET statements_done = %s WHERE version = %s").format(self.ident),
            (statements_done, version),
        )

    def batch_progress(self, version: str, statement: int, position: str, rows: int) -> None:
        """A backfill chunk's end position; call inside the chunk's transaction."""
        self.conn.execute(
            sql.SQL(
                "UPDATE {} SET batch_statement = %s, batch_position = %s,"
                " batch_rows = batch_rows + %s WHERE version = %s"
            ).format(self.ident),
            (statement, position, rows, version),
        )

    def finish(self, version: str, *, success: bool, duration_ms: int, error: str | None) -> None:
        self.conn.execute(
            sql.SQL(
                "UPDATE {} SET success = %s, duration_ms = %s, error = %s WHERE version = %s"
            ).format(self.ident),
            (success, duration_ms, error, version),
        )
