"""Batched backfills on a real PostgreSQL: chunking, refusal, SIGINT and resume."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from runner_db import Db
from sqlgate_client.runner.errors import Interrupted, UnsupportedSql

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


def _big(db: Db, rows: int) -> None:
    db.conn.execute("CREATE TABLE big (id bigint PRIMARY KEY, label text NOT NULL)")
    db.conn.execute(f"INSERT INTO big SELECT g, 'row' || g FROM generate_series(1, {rows}) g")


def test_batch_chunks_by_key_range(db: Db) -> None:
    _big(db, 2_500)
    path = db.write(
        "V1__fill.sql",
        "ALTER TABLE big ADD COLUMN n int NOT NULL DEFAULT 0;\n"
        "-- sqlgate:batch key=id size=1000\n"
        "UPDATE big SET n = n + 1 WHERE label LIKE 'row%' AND id % 2 = 0;\n",
    )
    result = db.run(path)
    assert result.error is None
    assert result.files[0].chunks == 3  # 1000 + 1000 + 500
    assert result.files[0].statements[1].rows == 1_250
    assert db.scalar("SELECT count(*) FROM big WHERE n = 1") == 1_250
    assert db.scalar("SELECT count(*) FROM big WHERE n = 0 AND id % 2 = 1") == 1_250
    row = db.conn.execute(
        f"SELECT batch_position, batch_rows, success FROM {db.history_table}"
    ).fetchone()
    assert row == ("2500", 1_250, True)


def test_batch_delete_without_where(db: Db) -> None:
    _big(db, 1_001)
    path = db.write("V1__del.sql", "-- sqlgate:batch key=id size=500 pause=1ms\nDELETE FROM big;\n")
    result = db.run(path)
    assert result.error is None and result.files[0].chunks == 3
    assert db.scalar("SELECT count(*) FROM big") == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE big SET label = 'x' FROM other WHERE other.id = big.id",
        "DELETE FROM big USING other WHERE other.id = big.id",
        "UPDATE big SET label = 'x' RETURNING id",
        "UPDATE big SET id = id + 1",
        "INSERT INTO big VALUES (1, 'x')",
        "WITH x AS (SELECT 1) UPDATE big SET label = 'x'",
    ],
)
def test_unchunkable_batch_is_refused_before_running(db: Db, statement: str) -> None:
    path = db.write(
        "V1__bad.sql", f"CREATE TABLE t0 (id int);\n-- sqlgate:batch key=id\n{statement};\n"
    )
    with pytest.raises(UnsupportedSql, match="sqlgate:batch cannot chunk"):
        db.load(path)


def test_null_keys_are_refused(db: Db) -> None:
    db.conn.execute("CREATE TABLE nk (id int, v int)")
    db.conn.execute("INSERT INTO nk VALUES (1, 0), (NULL, 0)")
    path = db.write("V1__nk.sql", "-- sqlgate:batch key=id size=10\nUPDATE nk SET v = 1;\n")
    result = db.run(path)
    assert isinstance(result.error, UnsupportedSql) and "NULL" in str(result.error)
    assert db.scalar("SELECT count(*) FROM nk WHERE v = 1") == 0


def test_stop_flag_stops_after_current_chunk(db: Db) -> None:
    from sqlgate_client.runner.apply import StopFlag

    _big(db, 3_000)
    path = db.write("V1__s.sql", "-- sqlgate:batch key=id size=1000\nUPDATE big SET label = 'z';\n")
    stop = StopFlag()

    class SignalAfterFirstChunk(io.StringIO):
        def write(self, text: str) -> int:
            if " chunk 1:" in text:
                stop.requested = "SIGTERM"  # as the handler would, while chunk 1 is done
            return super().write(text)

    result = db.run(path, stop=stop, out=SignalAfterFirstChunk())
    assert isinstance(result.error, Interrupted) and result.error.exit_code == 21
    assert result.files[0].chunks == 1
    assert db.scalar("SELECT count(*) FROM big WHERE label = 'z'") == 1_000


@pytest.mark.slow
def test_100k_backfill_interrupted_by_sigint_then_resumed_exactly_once(db: Db) -> None:
    _big(db, 100_000)
    path = db.write(
        "V7__backfill.sql",
        "ALTER TABLE big ADD COLUMN n int NOT NULL DEFAULT 0;\n"
        "-- sqlgate:batch key=id size=1000 pause=20ms\n"
        "UPDATE big SET n = n + 1 WHERE label LIKE 'row%';\n",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "clients")}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("batch_child.py")), db.dsn, db.schema, path],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    lines: list[str] = []
    for line in child.stdout:
        lines.append(line)
        if " chunk 10:" in line:
            child.send_signal(signal.SIGINT)
            break
    rest, err = child.communicate(timeout=120)
    lines += rest.splitlines()
    assert child.returncode == 21, (lines[-5:], err)
    first_chunks = int(next(x for x in lines if x.startswith("RESULT")).split("=")[1])
    assert 10 <= first_chunks < 100
    done = db.scalar("SELECT count(*) FROM big WHERE n = 1")
    assert done == first_chunks * 1_000  # the chunk in flight finished, none beyond
    position = db.scalar(f"SELECT batch_position FROM {db.history_table}")
    assert position == str(first_chunks * 1_000)

    resumed = db.run(path)
    assert resumed.error is None
    fr = resumed.files[0]
    assert fr.statements[0].error == "applied by an earlier run"  # ALTER not repeated
    assert first_chunks + fr.chunks == 100
    assert db.scalar("SELECT count(*) FROM big WHERE n = 1") == 100_000
    assert db.scalar("SELECT count(*) FROM big WHERE n <> 1") == 0
    assert db.scalar(f"SELECT batch_rows FROM {db.history_table}") == 100_000
