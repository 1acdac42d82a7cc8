"""The per-test database helper of the runner tests (a unique schema, a run helper)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import psycopg
from sqlgate_client.runner.apply import Applier, RunResult, StopFlag
from sqlgate_client.runner.history import History
from sqlgate_client.runner.migrations import Migration, Timeouts, load


class Db:
    """One test's schema: its name, an autocommit connection, and a run helper."""

    def __init__(self, dsn: str, schema: str, tmp: Path) -> None:
        self.dsn = dsn
        self.schema = schema
        self.tmp = tmp
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f'CREATE SCHEMA "{schema}"')
        self.conn.execute(f'SET search_path = "{schema}"')

    @property
    def history_table(self) -> str:
        return f"{self.schema}.schema_history"

    def write(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def load(self, *paths: str) -> list[Migration]:
        version = self.conn.info.server_version
        return [load(p, Timeouts(), server_version=version) for p in paths]

    def run(
        self, *paths: str, stop: StopFlag | None = None, out: TextIO | None = None
    ) -> RunResult:
        """Open a fresh runner connection (search_path = the test schema) and apply."""
        with psycopg.connect(
            self.dsn, autocommit=True, options=f"-c search_path={self.schema}"
        ) as conn:
            history = History(conn, self.history_table)
            history.ensure()
            history.lock()
            try:
                applier = Applier(conn, history, runner_id="test-runner", stop=stop, out=out)
                migrations = self.load(*paths)
                rows = applier.validate(migrations)
                return applier.apply(migrations, rows)
            finally:
                history.unlock()

    def scalar(self, query: str) -> object:
        row = self.conn.execute(query).fetchone()
        assert row is not None
        return row[0]
