"""read_catalog against a real MariaDB/MySQL: every object created here must be reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pymysql
import pytest
from sqlgate.catalog import dumps_catalog, read_catalog
from sqlgate.catalog.dsn import parse_mysql_url
from sqlgate.catalog.mysql import read_only_session
from sqlgate.errors import CatalogError

Admin = Callable[[str | None], Any]

SETUP = [
    """CREATE TABLE users (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(190) NOT NULL,
        name varchar(80) NULL,
        status varchar(16) NOT NULL DEFAULT 'active',
        age int CHECK (age >= 0),
        name_len int AS (char_length(name)) VIRTUAL,
        name_upper varchar(80) AS (upper(name)) STORED,
        UNIQUE KEY users_email_key (email),
        KEY users_name_status (name(10), status),
        CONSTRAINT users_age_sane CHECK (age < 200)
    ) ENGINE=InnoDB""",
    """CREATE TABLE orders (
        id int NOT NULL AUTO_INCREMENT,
        user_id bigint NOT NULL,
        buyer_id bigint NULL,
        PRIMARY KEY (id),
        CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
            ON DELETE CASCADE,
        CONSTRAINT orders_buyer_fk FOREIGN KEY (buyer_id) REFERENCES users (id)
            ON DELETE SET NULL ON UPDATE RESTRICT
    ) ENGINE=InnoDB""",
    """CREATE TABLE events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
        PARTITION BY RANGE (YEAR(at)) (
            PARTITION p2024 VALUES LESS THAN (2025),
            PARTITION p2025 VALUES LESS THAN (2026))""",
    "CREATE VIEW active_users AS SELECT id, email FROM users WHERE status = 'active'",
    "INSERT INTO users (email, name, age) VALUES ('a@x.test', 'ann', 30), ('b@x.test', 'bob', 40)",
    "ANALYZE TABLE users, orders, events",
]


@pytest.fixture(scope="module")
def catalog(mysql_dsn: str, mysql_admin: Admin) -> dict[str, Any]:
    db = parse_mysql_url(mysql_dsn).database
    conn = mysql_admin(db)
    with conn.cursor() as cur:
        for statement in SETUP:
            cur.execute(statement)
            cur.fetchall()
    conn.close()
    return read_catalog(mysql_dsn)


def _table(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [t for t in catalog["tables"] if t["name"] == name]
    assert len(matches) == 1, f"{name} not in catalog exactly once"
    return matches[0]


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [i for i in items if i["name"] == name]
    assert len(found) == 1, f"{name} not found once in {[i['name'] for i in items]}"
    return found[0]


def test_envelope(catalog: dict[str, Any], mysql_dsn: str, mysql_admin: Admin) -> None:
    db = parse_mysql_url(mysql_dsn).database
    assert catalog["version"] == 1 and catalog["dialect"] == "mysql"
    assert catalog["database"] == db and catalog["schemas"] == [db]
    assert catalog["extensions"] == []
    conn = mysql_admin(None)
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
    conn.close()
    assert row is not None
    assert str(row[0]).startswith(catalog["server_version"])
    major, minor, patch = (int(p) for p in catalog["server_version"].split("."))
    assert catalog["server_version_num"] == major * 10000 + minor * 100 + patch
    assert catalog["flavor"] == ("mariadb" if "mariadb" in str(row[0]).lower() else "mysql")
    assert {t["schema"] for t in catalog["tables"]} == {db}
    assert [t["name"] for t in catalog["tables"]] == ["active_users", "events", "orders", "users"]


def test_columns(catalog: dict[str, Any]) -> None:
    users = _table(catalog, "users")
    assert users["kind"] == "table"
    cols = {c["name"]: c for c in users["columns"]}
    assert list(cols) == ["id", "email", "name", "status", "age", "name_len", "name_upper"]
    assert cols["id"]["identity"] == "auto_increment" and cols["id"]["nullable"] is False
    assert cols["id"]["type"] == "bigint(20)" or cols["id"]["type"] == "bigint"
    assert cols["email"]["type"] == "varchar(190)" and cols["email"]["nullable"] is False
    assert cols["name"]["nullable"] is True and cols["name"]["default"] is None
    assert cols["status"]["default"] in ("'active'", "active")
    assert cols["name_len"]["generated"]["kind"] == "virtual"
    assert "char_length" in cols["name_len"]["generated"]["expression"]
    assert cols["name_upper"]["generated"]["kind"] == "stored"
    assert cols["email"]["generated"] is None and cols["email"]["identity"] is None


def test_indexes(catalog: dict[str, Any]) -> None:
    users = _table(catalog, "users")
    assert [i["name"] for i in users["indexes"]] == [
        "PRIMARY", "users_email_key", "users_name_status",
    ]  # fmt: skip
    pk = _by_name(users["indexes"], "PRIMARY")
    assert pk["primary"] and pk["unique"] and pk["columns"] == ["id"] and pk["method"] == "btree"
    email = _by_name(users["indexes"], "users_email_key")
    assert email["unique"] and not email["primary"] and email["columns"] == ["email"]
    multi = _by_name(users["indexes"], "users_name_status")
    assert multi["columns"] == ["name", "status"] and not multi["unique"]
    assert "name(10)" in multi["definition"]
    assert all(i["valid"] and not i["partial"] for i in users["indexes"])
    fk_index = [i for i in _table(catalog, "orders")["indexes"] if i["columns"] == ["user_id"]]
    assert len(fk_index) == 1  # InnoDB creates an index for each foreign key


def test_constraints_and_foreign_keys(catalog: dict[str, Any], mysql_dsn: str) -> None:
    db = parse_mysql_url(mysql_dsn).database
    users = _table(catalog, "users")
    types = {c["name"]: c["type"] for c in users["constraints"]}
    assert types["PRIMARY"] == "primary_key" and types["users_email_key"] == "unique"
    assert types["users_age_sane"] == "check"
    age_checks = [c for c in users["constraints"] if c["type"] == "check"]
    assert len(age_checks) == 2  # the column-level CHECK and users_age_sane
    sane = _by_name(users["constraints"], "users_age_sane")
    assert "200" in sane["definition"] and sane["validated"] is True
    assert _by_name(users["constraints"], "users_email_key")["columns"] == ["email"]
    fks = {f["name"]: f for f in _table(catalog, "orders")["foreign_keys"]}
    assert set(fks) == {"orders_user_fk", "orders_buyer_fk"}
    assert fks["orders_user_fk"]["columns"] == ["user_id"]
    assert fks["orders_user_fk"]["ref_table"] == f"{db}.users"
    assert fks["orders_user_fk"]["ref_columns"] == ["id"]
    assert fks["orders_user_fk"]["on_delete"] == "cascade"
    assert fks["orders_buyer_fk"]["on_delete"] == "set_null"
    assert fks["orders_buyer_fk"]["on_update"] == "restrict"
    assert all(f["validated"] for f in fks.values())


def test_partitions_views_and_estimates(catalog: dict[str, Any]) -> None:
    assert _table(catalog, "events")["kind"] == "partitioned"
    view = _table(catalog, "active_users")
    assert view["kind"] == "view" and view["row_estimate"] == -1 and view["size_bytes"] == 0
    assert [c["name"] for c in view["columns"]] == ["id", "email"]
    users = _table(catalog, "users")
    assert users["row_estimate"] == 2 and users["size_bytes"] > 0


def test_two_reads_are_byte_identical_apart_from_taken_at(
    catalog: dict[str, Any], mysql_dsn: str
) -> None:
    again = read_catalog(mysql_dsn)
    again["taken_at"] = catalog["taken_at"]
    assert dumps_catalog(again) == dumps_catalog(catalog)


def test_session_is_read_only(catalog: dict[str, Any], mysql_dsn: str, mysql_admin: Admin) -> None:
    with read_only_session(mysql_dsn) as conn, conn.cursor() as cur:
        with pytest.raises(pymysql.err.MySQLError) as info:
            cur.execute("INSERT INTO users (email) VALUES ('c@x.test')")
        assert info.value.args[0] == 1792  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    db = parse_mysql_url(mysql_dsn).database
    conn = mysql_admin(db)
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM users")
        assert cur.fetchone() == (2,)
    conn.close()


def test_dsn_without_database_or_for_a_system_database_is_refused(mysql_dsn: str) -> None:
    base = mysql_dsn.rsplit("/", 1)[0]
    with pytest.raises(CatalogError, match="must name a database"):
        read_catalog(base + "/")
    with pytest.raises(CatalogError, match="system database"):
        read_catalog(base + "/mysql")


def test_unknown_database_and_bad_password_are_catalog_errors(mysql_dsn: str) -> None:
    base = mysql_dsn.rsplit("/", 1)[0]
    with pytest.raises(CatalogError, match=r"cannot connect to MySQL.*1049"):
        read_catalog(base + "/sqlgate_no_such_db_xyz")
    target = parse_mysql_url(mysql_dsn)
    wrong = f"mysql://{target.user}:wrong-pw@{target.host}:{target.port}/{target.database}"
    with pytest.raises(CatalogError, match="cannot connect to MySQL") as info:
        read_catalog(wrong)
    assert "wrong-pw" not in str(info.value)


def test_output_matches_the_published_json_schema(catalog: dict[str, Any]) -> None:
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "policies" / "schema" / "catalog.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(catalog)
