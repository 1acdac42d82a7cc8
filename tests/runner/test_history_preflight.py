"""A runner role that may not keep the history table is refused before redemption."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import conninfo
from runner_db import Db
from sqlgate_client.runner.errors import SqlFailed
from sqlgate_client.runner.history import History


@pytest.fixture
def limited_dsn(db: Db) -> Iterator[str]:
    """A login role with USAGE (no CREATE) on the test schema and no CREATE on the database."""
    role = f"rt_limited_{uuid.uuid4().hex[:8]}"
    db.conn.execute(f'CREATE ROLE "{role}" LOGIN')
    db.conn.execute(f'GRANT USAGE ON SCHEMA "{db.schema}" TO "{role}"')
    dsn = conninfo.make_conninfo(db.dsn, user=role)
    try:
        yield dsn
    finally:
        db.conn.execute(f'DROP OWNED BY "{role}"')
        db.conn.execute(f'DROP ROLE "{role}"')


def _history(dsn: str, table: str) -> tuple[psycopg.Connection[tuple[object, ...]], History]:
    conn = psycopg.connect(dsn, autocommit=True)
    return conn, History(conn, table)


def test_owner_passes_and_limited_role_is_refused_without_a_table(db: Db, limited_dsn: str) -> None:
    conn, history = _history(db.dsn, db.history_table)
    with conn:
        history.preflight()  # the test schema's owner may create it
    conn, history = _history(limited_dsn, db.history_table)
    with conn:
        with pytest.raises(SqlFailed, match="may not create the history table") as info:
            history.preflight()
        assert info.value.exit_code == 20
        assert "not redeemed" in str(info.value)
    # a schema that does not exist yet needs CREATE on the database
    conn, history = _history(limited_dsn, f"rt_missing_{uuid.uuid4().hex[:6]}.schema_history")
    with conn, pytest.raises(SqlFailed, match="may not create"):
        history.preflight()


def test_existing_table_needs_write_privileges(db: Db, limited_dsn: str) -> None:
    History(db.conn, db.history_table).ensure()
    conn, history = _history(limited_dsn, db.history_table)
    with conn:
        with pytest.raises(SqlFailed, match="read and write the history table"):
            history.preflight()
        role = conninfo.conninfo_to_dict(limited_dsn)["user"]
        db.conn.execute(f'GRANT SELECT, INSERT, UPDATE ON "{db.schema}".schema_history TO "{role}"')
        history.preflight()
