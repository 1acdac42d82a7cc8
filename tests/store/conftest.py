"""A fresh store per test on each backend, plus raw SQL access for tamper tests.

The PostgreSQL store lives in its own schema of the session database (dropped after the
test), so tests never see each other's rows.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlgate.store.postgres import PostgresStore
from sqlgate.store.sql import SqlStore
from sqlgate.store.sqlite import SqliteStore


@dataclass
class Backend:
    name: str
    store: SqlStore
    url: str
    raw: Callable[[str, tuple[Any, ...]], None]
    reopen: Callable[[], SqlStore]


def _sqlite_raw(path: Path) -> Callable[[str, tuple[Any, ...]], None]:
    def run(statement: str, params: tuple[Any, ...] = ()) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute(statement, params)
        finally:
            conn.close()

    return run


def _pg_raw(dsn: str, schema: str) -> Callable[[str, tuple[Any, ...]], None]:
    def run(statement: str, params: tuple[Any, ...] = ()) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]

    return run


def make_backend(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> Iterator[Backend]:
    if name == "sqlite":
        path = tmp_path / "store.db"
        store: SqlStore = SqliteStore(path)
        yield Backend(
            name, store, f"sqlite:///{path}", _sqlite_raw(path), lambda: SqliteStore(path)
        )
        store.close()
        return
    dsn = request.getfixturevalue("pg_dsn")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(dsn, schema=schema)
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    url = (
        f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', 5432)}/{params['dbname']}?schema={schema}"
    )
    try:
        yield Backend(
            name, store, url, _pg_raw(dsn, schema), lambda: PostgresStore(dsn, schema=schema)
        )
    finally:
        store.close()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from make_backend(request, tmp_path, request.param)
