"""Checks with a catalog read from a REAL PostgreSQL database give answers checks
without one cannot: an FK whose index already exists, a big vs a small table, a missing
table and column. Through ``sqlgate check --local`` and a real server on 127.0.0.1
(the catalog sent in CheckRequest.catalog), and through a server-side named target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlgate.cli.main import main
from sqlgate.config import TargetConfig
from sqlgate.targets import TargetCatalogs

pytestmark = pytest.mark.postgres

SCHEMA = """
CREATE TABLE parents (id bigint PRIMARY KEY);
CREATE TABLE children (id bigint PRIMARY KEY, parent_id bigint);
CREATE INDEX children_parent_idx ON children (parent_id);
CREATE TABLE orphans (id bigint PRIMARY KEY, parent_id bigint);
CREATE TABLE small (id bigint PRIMARY KEY, v text);
CREATE TABLE big (id bigint PRIMARY KEY, v text);
INSERT INTO small SELECT g, 'x' FROM generate_series(1, 100) g;
INSERT INTO big SELECT g, 'x' FROM generate_series(1, 30000) g;
ANALYZE;
"""


@pytest.fixture(scope="module")
def catalog_file(pg_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(SCHEMA)
    out = tmp_path_factory.mktemp("catalog") / "catalog.json"
    assert main(["catalog", "--dsn", pg_dsn, "--output", str(out)]) == 0
    yield out


def run(
    capsys: pytest.CaptureFixture[str], where: list[str], sql_file: Path, *args: str
) -> tuple[int, dict[str, object]]:
    capsys.readouterr()
    code = main(["check", *where, str(sql_file), "--env", "production", "--format", "json", *args])
    out, err = capsys.readouterr()
    assert err == ""
    doc = json.loads(out)
    doc.pop("verdict_id", None)
    doc.pop("verdict", None)
    doc.pop("audit_checkpoint", None)
    return code, doc


def findings(doc: dict[str, object]) -> dict[str, str]:
    items = doc["findings"]
    assert isinstance(items, list)
    return {f"{f['rule']}@{f['line']}": f["level"] for f in items}


def both(
    capsys: pytest.CaptureFixture[str], server: str, sql_file: Path, *args: str
) -> dict[str, str]:
    local = run(capsys, ["--local"], sql_file, *args)
    remote = run(capsys, ["--server", server], sql_file, *args)
    assert local == remote, "--local and the server disagree"
    return findings(local[1])


def write(tmp_path: Path, sql: str) -> Path:
    path = tmp_path / "V1__m.sql"
    path.write_text("SET lock_timeout = '2s';\nSET statement_timeout = '1min';\n" + sql)
    return path


def test_fk_whose_index_exists(
    catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    sql = write(
        tmp_path,
        "ALTER TABLE children ADD CONSTRAINT c_fk FOREIGN KEY (parent_id) "
        "REFERENCES parents (id) NOT VALID;\n"
        "ALTER TABLE orphans ADD CONSTRAINT o_fk FOREIGN KEY (parent_id) "
        "REFERENCES parents (id) NOT VALID;\n",
    )
    without = both(capsys, server_address, sql)
    assert {"fk-missing-index@3", "fk-missing-index@4"} <= set(without)
    with_catalog = both(capsys, server_address, sql, "--catalog", str(catalog_file))
    assert "fk-missing-index@3" not in with_catalog  # children_parent_idx exists
    assert "fk-missing-index@4" in with_catalog  # orphans has no index


def test_big_vs_small_table(
    catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    sql = write(tmp_path, "CREATE INDEX small_v ON small (v);\nCREATE INDEX big_v ON big (v);\n")
    without = both(capsys, server_address, sql)
    assert without["index-not-concurrent@3"] == without["index-not-concurrent@4"] == "deny"
    scaled = both(capsys, server_address, sql, "--catalog", str(catalog_file))
    assert scaled["index-not-concurrent@3"] == "warn"  # 100 rows: below the thresholds
    assert scaled["index-not-concurrent@4"] == "deny"  # 30k rows: not small


def test_large_update_needs_batching(
    catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    # Thresholds lowered in a copy of the policies' data would change the digest; instead
    # the catalog's row estimate is raised to what a large table reports.
    doc = json.loads(catalog_file.read_text())
    for t in doc["tables"]:
        if t["name"] == "big":
            t["row_estimate"] = 5_000_000
    large = tmp_path / "large.json"
    large.write_text(json.dumps(doc))
    sql = write(
        tmp_path, "UPDATE big SET v = 'y' WHERE id > 10;\nUPDATE small SET v = 'y' WHERE id > 10;\n"
    )
    assert not any(
        k.startswith("unbatched-large-update") for k in both(capsys, server_address, sql)
    )
    got = both(capsys, server_address, sql, "--catalog", str(large))
    assert got.get("unbatched-large-update@3") == "approval"
    assert "unbatched-large-update@4" not in got


def test_missing_table_and_column(
    catalog_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], server_address: str
) -> None:
    sql = write(
        tmp_path,
        "ALTER TABLE nosuch ADD COLUMN x int;\n"
        "ALTER TABLE small DROP COLUMN nope;\n"
        "CREATE TABLE fresh (id bigint PRIMARY KEY);\n"
        "ALTER TABLE fresh ADD COLUMN y int;\n"
        "ALTER TABLE fresh RENAME COLUMN y TO z;\n"
        "ALTER TABLE fresh ALTER COLUMN z SET NOT NULL;\n",
    )
    without = both(capsys, server_address, sql)
    assert not any("not-found" in k for k in without)
    got = both(capsys, server_address, sql, "--catalog", str(catalog_file))
    assert {k for k in got if "not-found" in k} == {"table-not-found@3", "column-not-found@4"}


def test_server_reads_a_named_target(pg_dsn: str, catalog_file: Path) -> None:
    del catalog_file  # the schema is in place
    reads: list[str] = []

    def reader(dsn: str) -> dict[str, object]:
        from sqlgate.catalog import read_catalog

        reads.append(dsn)
        return read_catalog(dsn)

    now = [0.0]
    catalogs = TargetCatalogs(
        {"main": TargetConfig(dsn=pg_dsn, catalog_ttl_s=60)}, reader=reader, clock=lambda: now[0]
    )
    assert catalogs.catalog("other") is None
    first = catalogs.catalog("main")
    assert first is not None and {t["name"] for t in first["tables"]} >= {"big", "small"}
    assert catalogs.catalog("main") is first and len(reads) == 1  # cached
    now[0] = 61.0
    catalogs.catalog("main")
    assert len(reads) == 2  # re-read after the TTL
