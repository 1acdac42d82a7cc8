"""Migration tools' history tables read by ``sqlgate catalog`` (real PostgreSQL and
MariaDB/MySQL): what each records as applied, and rows that must not count."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sqlgate.catalog import read_catalog
from sqlgate.catalog.dsn import parse_mysql_url
from sqlgate.catalog.load import validate_catalog
from sqlgate.context import resolve_context

TABLES = """
CREATE TABLE {s}.flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
    description varchar(200), success boolean NOT NULL);
INSERT INTO {s}.flyway_schema_history VALUES (1, '1', 'a', true), (2, '1.1', 'b', true),
    (3, '2', 'failed', false), (4, NULL, 'repeatable', true);
CREATE TABLE {s}.goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,
    is_applied boolean NOT NULL);
INSERT INTO {s}.goose_db_version (version_id, is_applied) VALUES (0, true),
    (20230101000000, true), (20230202000000, true), (20230202000000, false);
CREATE TABLE {s}.gorp_migrations (id varchar(255) PRIMARY KEY, applied_at timestamp);
INSERT INTO {s}.gorp_migrations VALUES ('1_init.sql', NULL);
CREATE TABLE {s}._prisma_migrations (id varchar(36) PRIMARY KEY,
    migration_name varchar(255) NOT NULL, finished_at timestamp, rolled_back_at timestamp);
INSERT INTO {s}._prisma_migrations VALUES ('a', '20230101_init', now(), NULL),
    ('b', '20230102_half', NULL, NULL), ('c', '20230103_back', now(), now());
"""


def _entries(catalog: dict[str, Any], schema: str) -> dict[str, dict[str, Any]]:
    return {e["tool"]: e for e in catalog["history"] if e["table"].startswith(f"{schema}.")}


@pytest.mark.postgres
def test_postgres_history_tables(pg_dsn: str) -> None:
    s = f"hist_{uuid.uuid4().hex[:8]}"
    other = f"hist_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {s}; CREATE SCHEMA {other}".encode())
        try:
            conn.execute(TABLES.format(s=s).encode())
            # golang-migrate (dirty) and dbmate share a table name; told apart by columns
            conn.execute(
                f"CREATE TABLE {s}.schema_migrations (version bigint, dirty boolean);"
                f"INSERT INTO {s}.schema_migrations VALUES (5, true);"
                f"CREATE TABLE {other}.schema_migrations (version varchar(255) PRIMARY KEY);"
                f"INSERT INTO {other}.schema_migrations VALUES ('20230101'), ('20230105');"
                f"CREATE TABLE {other}.alembic_version (version_num varchar(32));"
                f"INSERT INTO {other}.alembic_version VALUES ('ae1027a6acf');".encode()
            )
            catalog = validate_catalog(read_catalog(pg_dsn))
        finally:
            conn.execute(f"DROP SCHEMA {s} CASCADE; DROP SCHEMA {other} CASCADE".encode())
    mine, theirs = _entries(catalog, s), _entries(catalog, other)
    assert mine["flyway"]["applied"] == ["1", "1.1"]  # failed and repeatable rows left out
    assert mine["goose"]["applied"] == ["20230101000000"]  # rolled back by its later row
    assert mine["sql-migrate"]["applied"] == ["1_init.sql"]
    assert mine["prisma"]["applied"] == ["20230101_init"]  # unfinished, rolled back: no
    assert mine["golang-migrate"] == {
        "tool": "golang-migrate",
        "table": f"{s}.schema_migrations",
        "applied": [],
        "through": "4",  # version 5 is dirty: it did not finish
    }
    assert theirs["dbmate"]["applied"] == ["20230101", "20230105"]
    assert theirs["alembic"]["applied"] == ["ae1027a6acf"]
    paths = ["db/V1__a.sql", "db/V1_1__b.sql", "db/V2__c.sql"]
    only_flyway = {**catalog, "history": [mine["flyway"]]}
    assert resolve_context(paths, catalog=only_flyway) == {"db/V1__a.sql", "db/V1_1__b.sql"}
    only_golang = {**catalog, "history": [mine["golang-migrate"]]}
    golang = ["m/0003_a.up.sql", "m/0004_b.up.sql", "m/0005_c.up.sql"]
    assert resolve_context(golang, catalog=only_golang) == {"m/0003_a.up.sql", "m/0004_b.up.sql"}


def test_mysql_history_tables(mysql_dsn: str, mysql_admin: Callable[..., Any]) -> None:
    db = parse_mysql_url(mysql_dsn).database
    conn = mysql_admin(db)
    statements = [
        "CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY,"
        " version varchar(50), success tinyint(1) NOT NULL)",
        "INSERT INTO flyway_schema_history VALUES (1, '1', 1), (2, '2', 0)",
        "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,"
        " is_applied tinyint(1) NOT NULL)",
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (7, 1), (8, 1),"
        " (8, 0)",
    ]
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
        catalog = validate_catalog(read_catalog(mysql_dsn))
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS flyway_schema_history, goose_db_version")
        conn.close()
    entries = _entries(catalog, db)
    assert entries["flyway"]["applied"] == ["1"]
    assert entries["goose"]["applied"] == ["7"]
