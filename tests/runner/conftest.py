"""Fixtures for runner tests: a unique schema per test in the session's real database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_db import Db


@pytest.fixture
def db(pg_dsn: str, tmp_path: Path) -> Iterator[Db]:
    schema = f"rt_{uuid.uuid4().hex[:10]}"
    d = Db(pg_dsn, schema, tmp_path)
    try:
        yield d
    finally:
        d.conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        d.conn.close()
