"""Fixtures for rehearsal tests: a fresh target database per test (pg_dump reads a whole
database, so tests must not share one), dropped afterwards; the session's database
serves as the scratch server's maintenance connection."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from rehearse_db import Target


@pytest.fixture
def target(pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    name = f"sqlgate_rt_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    monkeypatch.chdir(tmp_path)
    try:
        yield Target(psycopg.conninfo.make_conninfo(pg_dsn, dbname=name), pg_dsn, name, tmp_path)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
