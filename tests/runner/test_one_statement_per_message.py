"""The runner sends one statement per protocol message (extended protocol): text that
PostgreSQL would lex into two statements fails instead of running the second one, even
on a session where ``standard_conforming_strings`` is off (the runner pins it on; this
is the layer beneath that pin)."""

from __future__ import annotations

import psycopg
import pytest
from runner_db import Db
from sqlgate_client.runner.apply import execute
from sqlgate_client.sqlsplit import Statement

pytestmark = pytest.mark.postgres


def _victim(db: Db) -> bool:
    return db.scalar("SELECT to_regclass('victim') IS NOT NULL") is True


@pytest.mark.parametrize(
    ("scs", "text"),
    [
        ("on", "SELECT 1; DROP TABLE victim"),
        ("off", "SELECT 'x\\' , ' ; DROP TABLE victim; --'"),
        ("off", "SELECT E'x\\' , ' ; TRUNCATE victim; --'"),
        ("on", "DO $$ BEGIN END $$; DELETE FROM victim"),
    ],
)
def test_a_text_that_lexes_as_two_statements_fails_whole(db: Db, scs: str, text: str) -> None:
    db.conn.execute("CREATE TABLE victim (id int)")
    db.conn.execute("INSERT INTO victim VALUES (1)")
    db.conn.execute(f"SET standard_conforming_strings = {scs}")
    try:
        with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
            execute(db.conn, Statement(0, text, 1, None, ()))
    finally:
        db.conn.execute("RESET standard_conforming_strings")
    assert _victim(db)
    assert db.scalar("SELECT count(*) FROM victim") == 1


def test_one_statement_runs_and_reports_its_rows(db: Db) -> None:
    db.conn.execute("CREATE TABLE victim (id int)")
    cur = execute(db.conn, Statement(0, "INSERT INTO victim VALUES (1), (2)", 1, None, ()))
    assert cur.rowcount == 2
