"""Schema creation and upgrade: an old-version database is upgraded at open, a newer one refused."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlgate.errors import ConfigError, StoreError
from sqlgate.store import PostgresStore, SqliteStore, open_store, schema
from sqlgate.store.base import CheckpointRecord

from store.conftest import Backend
from store.records import T0


def _build_v1(backend: Backend) -> None:
    """Drop everything, then lay down version 1 exactly as an old sqlgate did."""
    for table in (
        "rehearsals",
        "audit_checkpoints",
        "executions",
        "tokens",
        "approvals",
        "audit_events",
        "verdicts",
        "schema_version",
    ):
        backend.raw(f"DROP TABLE IF EXISTS {table}", ())
    backend.raw(schema.SCHEMA_VERSION_DDL, ())
    version, statements = schema.migrations(backend.store.backend)[0]
    assert version == 1
    for statement in statements:
        backend.raw(statement, ())
    backend.raw("INSERT INTO schema_version (id, version) VALUES (1, 1)", ())
    backend.raw(
        "INSERT INTO audit_events (sequence, at, kind, principal, details, prev_hash, hash) "
        "VALUES (1, 0, 'check', 'p', '{}', ?, ?)",
        ("0" * 64, "a" * 64),
    )


def test_fresh_store_is_at_latest(backend: Backend) -> None:
    assert backend.store.schema_version() == schema.LATEST
    assert schema.LATEST >= 2


def test_old_schema_is_upgraded(backend: Backend) -> None:
    backend.store.close()
    _build_v1(backend)
    store = backend.reopen()
    try:
        assert store.schema_version() == schema.LATEST
        # version 1 data kept, version 2 table usable, version 3 table there
        assert [e.sequence for e in store.iter_audit()] == [1]
        store.put_checkpoint(CheckpointRecord(1, "a" * 64, T0, "k", b"s"))
        assert store.list_rehearsals((("V1__x.sql", "0" * 64),)) == []
    finally:
        store.close()


def test_newer_schema_is_refused(backend: Backend) -> None:
    backend.store.close()
    backend.raw("UPDATE schema_version SET version = ?", (schema.LATEST + 1,))
    with pytest.raises(StoreError, match="newer than this sqlgate"):
        backend.reopen()


def test_reopening_is_idempotent(backend: Backend) -> None:
    again = backend.reopen()
    try:
        assert again.schema_version() == schema.LATEST
    finally:
        again.close()


def test_open_store_urls(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(store, SqliteStore)
    store.close()
    assert (tmp_path / "a.db").is_file()
    with pytest.raises(ConfigError, match="no such SQLite file"):
        open_store(f"sqlite:///{tmp_path / 'missing.db'}", create=False)
    with pytest.raises(ConfigError, match="unsupported store URL"):
        open_store("mysql://root@127.0.0.1/x")
    with pytest.raises(ConfigError, match="no host"):
        open_store("sqlite://host/x.db")


@pytest.mark.postgres
def test_open_store_postgres_url_with_schema(pg_dsn: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(pg_dsn)
    name = f"u_{uuid.uuid4().hex[:10]}"
    url = f"postgresql://postgres@127.0.0.1:{params.get('port', 5432)}/{params['dbname']}"
    store = open_store(f"{url}?schema={name}&connect_timeout=5")
    try:
        assert isinstance(store, PostgresStore)
        assert store.schema == name
        store.append_audit("check", "p", {}, T0)
    finally:
        store.close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        found = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.audit_events").format(sql.Identifier(name))
        ).fetchone()
        assert found == (1,)
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def _open_at_barrier(dsn: str, name: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        store = PostgresStore(dsn, schema=name)
        results.put(("ok", store.schema_version()))  # type: ignore[attr-defined]
        store.close()
    except Exception as exc:
        results.put(("error", repr(exc)))  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_two_processes_create_the_schema_together(pg_dsn: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        name = f"race_{uuid.uuid4().hex[:10]}"
        barrier = ctx.Barrier(2)
        results = ctx.Queue()
        procs = [
            ctx.Process(target=_open_at_barrier, args=(pg_dsn, name, barrier, results))
            for _ in range(2)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=60) for _ in procs]
        for proc in procs:
            proc.join(timeout=60)
        assert outcomes == [("ok", schema.LATEST), ("ok", schema.LATEST)]
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
