"""The rehearsal tests' target database helper (a fresh database, files, an in-process CLI)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlgate_client.runner import cli


@dataclass
class Target:
    dsn: str
    admin_dsn: str
    name: str
    dir: Path

    def sql(self, text: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(text.encode())

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return conn.execute(query.encode()).fetchall()

    def write(self, name: str, text: str) -> str:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return name

    def rehearse(
        self, capsys: pytest.CaptureFixture[str], *paths: str, extra: tuple[str, ...] = ()
    ) -> tuple[int, str, str, dict[str, Any]]:
        """Run ``sqlgate-runner rehearse`` in-process; (exit code, stdout, stderr, report)."""
        report = self.dir / f"report-{uuid.uuid4().hex[:6]}.json"
        code = cli.main(
            [
                "rehearse",
                "--dsn",
                self.dsn,
                "--scratch-dsn",
                self.admin_dsn,
                "--report",
                str(report),
                *extra,
                *paths,
            ]
        )
        out, err = capsys.readouterr()
        doc = json.loads(report.read_text()) if report.exists() else {}
        return code, out, err, doc

    def database_exists(self, name: str) -> bool:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
            found = row.fetchone()
            return bool(found and found[0])
