"""read_catalog against a real PostgreSQL: every object created here must be reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest
from sqlgate.catalog import dumps_catalog, read_catalog
from sqlgate.catalog.postgres import read_only_session
from sqlgate.errors import CatalogError, InputError

pytestmark = pytest.mark.postgres

SCHEMA = "cat_t"

SETUP = f"""
CREATE SCHEMA {SCHEMA};
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE {SCHEMA}.users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    name varchar(80),
    status text NOT NULL DEFAULT 'active',
    age int CHECK (age >= 0),
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE UNIQUE INDEX users_lower_email ON {SCHEMA}.users (lower(email));
CREATE INDEX users_active_name ON {SCHEMA}.users (name) INCLUDE (status)
    WHERE status = 'active';
CREATE TABLE {SCHEMA}.orders (
    id serial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES {SCHEMA}.users (id) ON DELETE CASCADE,
    buyer_id bigint,
    code text
);
CREATE TABLE {SCHEMA}.events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE {SCHEMA}.events_2024 PARTITION OF {SCHEMA}.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE {SCHEMA}.events_2025 PARTITION OF {SCHEMA}.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE VIEW {SCHEMA}.active_users AS SELECT id, email FROM {SCHEMA}.users;
CREATE TABLE {SCHEMA}.dupes (v int);
INSERT INTO {SCHEMA}.users (email, name, age)
    SELECT 'u' || g || '@x.test', 'n' || g, g % 90 FROM generate_series(1, 500) g;
INSERT INTO {SCHEMA}.orders (user_id, buyer_id, code)
    SELECT 1 + g % 500, 999999, 'a-very-long-code' FROM generate_series(1, 200) g;
-- NOT VALID: existing rows break both, so only new rows are checked
ALTER TABLE {SCHEMA}.orders ADD CONSTRAINT orders_buyer_fk
    FOREIGN KEY (buyer_id) REFERENCES {SCHEMA}.users (id) NOT VALID;
ALTER TABLE {SCHEMA}.orders ADD CONSTRAINT orders_code_len
    CHECK (length(code) < 10) NOT VALID;
INSERT INTO {SCHEMA}.events SELECT g, DATE '2024-01-01' + g FROM generate_series(0, 599) g;
INSERT INTO {SCHEMA}.dupes VALUES (1), (1), (2);
ANALYZE {SCHEMA}.users, {SCHEMA}.orders, {SCHEMA}.events, {SCHEMA}.dupes;
"""


@pytest.fixture(scope="module")
def catalog(pg_dsn: str) -> dict[str, Any]:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(SETUP.encode())
        # A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind.
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY dupes_v ON {SCHEMA}.dupes (v)")
    return read_catalog(pg_dsn)


def _table(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        t for t in catalog["tables"] if t["schema"] == SCHEMA and t["name"] == name
    ]
    assert len(matches) == 1, f"{SCHEMA}.{name} not in catalog exactly once"
    return matches[0]


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [i for i in items if i["name"] == name]
    assert len(found) == 1, f"{name} not found once in {[i['name'] for i in items]}"
    return found[0]


def test_envelope(catalog: dict[str, Any], pg_dsn: str) -> None:
    assert catalog["version"] == 1
    assert catalog["dialect"] == "postgres"
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT current_database(), current_setting('server_version_num')::int"
        ).fetchone()
    assert row is not None
    assert catalog["database"] == row[0]
    assert catalog["server_version_num"] == row[1]
    major = row[1] // 10000
    assert catalog["server_version"].startswith(f"{major}.")
    assert catalog["taken_at"].endswith("Z")
    assert SCHEMA in catalog["schemas"]
    assert not any(s.startswith("pg_") or s == "information_schema" for s in catalog["schemas"])
    assert not any(t["schema"] in ("pg_catalog", "information_schema") for t in catalog["tables"])
    trgm = _by_name(catalog["extensions"], "pg_trgm")
    assert trgm["schema"] == "public" and trgm["version"]


def test_columns(catalog: dict[str, Any]) -> None:
    users = _table(catalog, "users")
    assert users["kind"] == "table"
    assert [c["name"] for c in users["columns"]] == [
        "id", "email", "name", "status", "age", "name_upper",
    ]  # fmt: skip
    cols = {c["name"]: c for c in users["columns"]}
    assert cols["id"]["identity"] == "always" and cols["id"]["type"] == "bigint"
    assert cols["id"]["nullable"] is False
    assert cols["email"]["nullable"] is False and cols["email"]["identity"] is None
    assert cols["name"]["type"] == "character varying(80)" and cols["name"]["nullable"] is True
    assert cols["status"]["default"] == "'active'::text"
    assert cols["name_upper"]["generated"] == {"kind": "stored", "expression": "upper(name::text)"}
    assert cols["name_upper"]["default"] is None
    order_id = _by_name(_table(catalog, "orders")["columns"], "id")
    assert order_id["default"] == f"nextval('{SCHEMA}.orders_id_seq'::regclass)"


def test_indexes(catalog: dict[str, Any]) -> None:
    users = _table(catalog, "users")
    names = [i["name"] for i in users["indexes"]]
    assert names == sorted(names)
    assert set(names) == {"users_pkey", "users_email_key", "users_lower_email", "users_active_name"}
    pkey = _by_name(users["indexes"], "users_pkey")
    assert pkey["primary"] and pkey["unique"] and pkey["columns"] == ["id"]
    assert pkey["method"] == "btree" and pkey["valid"] and not pkey["partial"]
    expr = _by_name(users["indexes"], "users_lower_email")
    assert expr["columns"] == ["lower(email)"] and expr["unique"] and not expr["primary"]
    partial = _by_name(users["indexes"], "users_active_name")
    assert partial["partial"] and partial["predicate"] == "status = 'active'::text"
    assert partial["columns"] == ["name"] and partial["include"] == ["status"]
    assert not partial["unique"]
    assert "WHERE" in partial["definition"]
    invalid = _by_name(_table(catalog, "dupes")["indexes"], "dupes_v")
    assert invalid["valid"] is False and invalid["unique"] is True


def test_constraints_and_foreign_keys(catalog: dict[str, Any]) -> None:
    users = _table(catalog, "users")
    kinds = {c["name"]: c["type"] for c in users["constraints"]}
    assert kinds == {
        "users_pkey": "primary_key",
        "users_email_key": "unique",
        "users_age_check": "check",
    }
    check = _by_name(users["constraints"], "users_age_check")
    assert check["columns"] == ["age"] and check["validated"] is True
    assert check["definition"] == "CHECK (age >= 0)"
    orders = _table(catalog, "orders")
    not_valid = _by_name(orders["constraints"], "orders_code_len")
    assert not_valid["validated"] is False and not_valid["columns"] == ["code"]
    fks = {f["name"]: f for f in orders["foreign_keys"]}
    assert set(fks) == {"orders_user_id_fkey", "orders_buyer_fk"}
    assert fks["orders_user_id_fkey"] == {
        "name": "orders_user_id_fkey",
        "columns": ["user_id"],
        "ref_table": f"{SCHEMA}.users",
        "ref_columns": ["id"],
        "validated": True,
        "on_delete": "cascade",
        "on_update": "no_action",
        "definition": f"FOREIGN KEY (user_id) REFERENCES {SCHEMA}.users(id) ON DELETE CASCADE",
    }
    assert fks["orders_buyer_fk"]["validated"] is False
    assert fks["orders_buyer_fk"]["on_delete"] == "no_action"


def test_partitions_views_and_estimates(catalog: dict[str, Any]) -> None:
    events = _table(catalog, "events")
    assert events["kind"] == "partitioned" and events["partition_of"] is None
    for part in ("events_2024", "events_2025"):
        table = _table(catalog, part)
        assert table["kind"] == "table" and table["partition_of"] == f"{SCHEMA}.events"
    parts = [_table(catalog, p) for p in ("events_2024", "events_2025")]
    assert events["row_estimate"] == sum(p["row_estimate"] for p in parts) == 600
    assert events["size_bytes"] == sum(p["size_bytes"] for p in parts) > 0
    assert _table(catalog, "users")["row_estimate"] == 500
    assert _table(catalog, "orders")["row_estimate"] == 200
    assert _table(catalog, "users")["size_bytes"] > 0
    view = _table(catalog, "active_users")
    assert view["kind"] == "view" and view["row_estimate"] == -1 and view["size_bytes"] == 0
    assert [c["name"] for c in view["columns"]] == ["id", "email"]
    keys = [(t["schema"], t["name"]) for t in catalog["tables"]]
    assert keys == sorted(keys)


def test_two_reads_are_byte_identical_apart_from_taken_at(
    catalog: dict[str, Any], pg_dsn: str
) -> None:
    again = read_catalog(pg_dsn)
    again["taken_at"] = catalog["taken_at"]
    assert dumps_catalog(again) == dumps_catalog(catalog)


def test_session_is_read_only(catalog: dict[str, Any], pg_dsn: str) -> None:
    with read_only_session(pg_dsn) as conn:
        row = conn.execute("SHOW transaction_read_only").fetchone()
        assert row == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(f"INSERT INTO {SCHEMA}.dupes VALUES (3)")
    with read_only_session(pg_dsn) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute(f"CREATE TABLE {SCHEMA}.should_not_exist (x int)")
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.dupes").fetchone() == (3,)


def test_statement_timeout_applies(pg_dsn: str) -> None:
    with read_only_session(pg_dsn, timeout_s=1.0) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1s",)
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(5)")


def test_unreachable_server_is_a_catalog_error() -> None:
    with pytest.raises(CatalogError, match="cannot connect to PostgreSQL") as info:
        read_catalog("host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=2")
    assert isinstance(info.value, InputError)


def test_postgres_url_form(pg_dsn: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(pg_dsn)["dbname"]
    doc = read_catalog(f"postgresql://postgres@127.0.0.1:5432/{dbname}")
    assert doc["database"] == dbname


def test_output_matches_the_published_json_schema(catalog: dict[str, Any]) -> None:
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "policies" / "schema" / "catalog.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(catalog)
