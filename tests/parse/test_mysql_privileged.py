"""MySQL privileged statements: modelled as PostgreSQL's kinds, passwords never copied.

GRANT/REVOKE, CREATE/ALTER/DROP USER and ROLE, RENAME USER, SET ROLE, SET DEFAULT ROLE
and SET PASSWORD (sqlglot keeps most of them as opaque commands) become ``grant`` /
``revoke``, ``role`` and ``set`` (name ``role``); a form the grammar does not know stays
``unknown``. The ``privileged-*`` rules then fire for MySQL through the real review
and Rego engine, each naming the ``security`` approver.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, review

from .helpers import one

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SECRETS = ("s3cr3t", "hunter2", "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9")


def fields(sql: str) -> dict[str, Any]:
    doc = one(sql, "mysql")
    keep = ("kind", "privileges", "objects", "grantees", "operation", "names", "options")
    out = {k: doc[k] for k in keep if k in doc}
    if doc["kind"] == "set":
        out.update(name=doc["name"], value=doc["value"])
    return out


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "GRANT SELECT, INSERT ON shop.* TO 'app'@'%'",
            {"privileges": ["select", "insert"], "objects": ["shop.*"], "grantees": ["app@%"]},
        ),
        (
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION",
            {"privileges": ["all privileges"], "objects": ["*.*"], "grantees": ["root@localhost"]},
        ),
        (
            "GRANT SELECT (a, b) ON `shop`.`orders` TO app, `ops`@`10.0.0.%`",
            {
                "privileges": ["select"],
                "objects": ["shop.orders"],
                "grantees": ["app", "ops@10.0.0.%"],
            },
        ),
        (
            "GRANT EXECUTE ON PROCEDURE shop.refund TO app",
            {"privileges": ["execute"], "objects": ["shop.refund"], "grantees": ["app"]},
        ),
        (
            "GRANT reader, 'writer'@'%' TO bob@localhost WITH ADMIN OPTION",
            {
                "privileges": ["reader", "writer@%"],
                "objects": ["role"],
                "grantees": ["bob@localhost"],
            },
        ),
        (
            "GRANT PROXY ON 'root'@'%' TO app",
            {"privileges": ["proxy"], "objects": ["root@%"], "grantees": ["app"]},
        ),
    ],
)
def test_grant(sql: str, expected: dict[str, Any]) -> None:
    assert fields(sql) == {"kind": "grant", **expected}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "REVOKE INSERT ON shop.orders FROM 'app'@'%'",
            {"privileges": ["insert"], "objects": ["shop.orders"], "grantees": ["app@%"]},
        ),
        (
            "REVOKE IF EXISTS ALL PRIVILEGES, GRANT OPTION FROM app IGNORE UNKNOWN USER",
            {
                "privileges": ["all privileges", "grant option"],
                "objects": ["*.*"],
                "grantees": ["app"],
            },
        ),
        (
            "REVOKE reader FROM 'bob'@'%'",
            {"privileges": ["reader"], "objects": ["role"], "grantees": ["bob@%"]},
        ),
    ],
)
def test_revoke(sql: str, expected: dict[str, Any]) -> None:
    assert fields(sql) == {"kind": "revoke", **expected}


@pytest.mark.parametrize(
    ("sql", "operation", "names", "options"),
    [
        ("CREATE USER 'app'@'%' IDENTIFIED BY 's3cr3t'", "create", ["app@%"], ["password"]),
        (
            "CREATE USER IF NOT EXISTS a IDENTIFIED WITH caching_sha2_password BY 's3cr3t', "
            "b IDENTIFIED BY RANDOM PASSWORD DEFAULT ROLE reader "
            "WITH MAX_QUERIES_PER_HOUR 5 PASSWORD EXPIRE INTERVAL 90 DAY ACCOUNT LOCK",
            "create",
            ["a", "b"],
            ["account lock", "default role", "password", "password policy", "resource limits"],
        ),
        (
            "ALTER USER app IDENTIFIED WITH mysql_native_password "
            "AS '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'",
            "alter",
            ["app"],
            ["password"],
        ),
        ("ALTER USER USER() IDENTIFIED BY 'hunter2'", "alter", ["current_user"], ["password"]),
        ("ALTER USER app ACCOUNT UNLOCK", "alter", ["app"], ["account lock"]),
        ("DROP USER IF EXISTS 'app'@'%', old", "drop", ["app@%", "old"], []),
        ("CREATE ROLE IF NOT EXISTS reader, 'writer'@'%'", "create", ["reader", "writer@%"], []),
        ("DROP ROLE reader", "drop", ["reader"], []),
        ("RENAME USER 'a'@'%' TO 'b'@'%', c TO d", "alter", ["a@%", "c"], ["rename"]),
        ("SET DEFAULT ROLE reader, writer TO app", "alter", ["app"], ["default role"]),
        ("SET PASSWORD FOR 'app'@'%' = 'hunter2'", "alter", ["app@%"], ["password"]),
        ("SET PASSWORD = 's3cr3t'", "alter", ["current_user"], ["password"]),
        ("SET PASSWORD TO RANDOM", "alter", ["current_user"], ["password"]),
    ],
)
def test_users_and_roles(sql: str, operation: str, names: list[str], options: list[str]) -> None:
    assert fields(sql) == {
        "kind": "role",
        "operation": operation,
        "names": names,
        "options": options,
    }


@pytest.mark.parametrize(
    ("sql", "value"),
    [
        ("SET ROLE reader", "reader"),
        ("SET ROLE 'reader'@'%', writer", "reader@%, writer"),
        ("SET ROLE ALL EXCEPT auditor", "all except auditor"),
        ("SET ROLE NONE", "none"),
        ("SET ROLE DEFAULT", "default"),
    ],
)
def test_set_role(sql: str, value: str) -> None:
    assert fields(sql) == {"kind": "set", "name": "role", "value": value}


def test_no_password_reaches_a_model_field() -> None:
    sqls = [
        "CREATE USER app IDENTIFIED BY 's3cr3t'",
        "ALTER USER app IDENTIFIED BY 'hunter2' REPLACE 's3cr3t'",
        "SET PASSWORD = 's3cr3t'",
        "SET PASSWORD FOR app = 'hunter2' REPLACE 's3cr3t' RETAIN CURRENT PASSWORD",
        "ALTER USER app IDENTIFIED WITH x AS '*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9'",
    ]
    for sql in sqls:
        doc = one(sql, "mysql")
        doc.pop("text")  # the source itself, as submitted (contract §1)
        dumped = json.dumps(doc)
        assert not any(s in dumped for s in SECRETS), dumped


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE USER app IDENTIFIED BY 's3cr3t' BOGUS OPTION",
        "ALTER ROLE reader",
        "GRANT SELECT ON shop.orders",
        "SET PASSWORD FOR app = some_function()",
        "RENAME USER a",
    ],
)
def test_unknown_forms_stay_unknown(sql: str) -> None:
    doc = one(sql, "mysql")
    assert doc["kind"] == "unknown"
    assert not any(s in json.dumps({k: v for k, v in doc.items() if k != "text"}) for s in SECRETS)


def test_other_set_statements_are_unchanged() -> None:
    assert fields("SET NAMES utf8mb4") == {"kind": "set", "name": "names", "value": "utf8mb4"}
    assert fields("SET foreign_key_checks = 0") == {
        "kind": "set",
        "name": "foreign_key_checks",
        "value": "0",
    }


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    eng = EmbeddedEngine(load_policy_set(POLICIES))
    yield eng
    eng.close()


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("GRANT SELECT ON shop.* TO 'app'@'%';", "privileged-grant"),
        ("REVOKE reader FROM bob;", "privileged-grant"),
        ("CREATE USER app IDENTIFIED BY 's3cr3t';", "privileged-role"),
        ("DROP ROLE reader;", "privileged-role"),
        ("SET PASSWORD FOR app = 'hunter2';", "privileged-role"),
        ("SET ROLE reader;", "privileged-set-role"),
    ],
)
def test_privileged_rules_fire_for_mysql(engine: EmbeddedEngine, sql: str, rule: str) -> None:
    result = review(
        ReviewRequest(
            repo="",
            commit="",
            environment="production",
            target="db",
            dialect="mysql",
            migrations=[MigrationFile(path="V1__x.sql", content=sql.encode())],
        ),
        engine=engine,
    )
    found = [f for f in result.findings if f.rule == rule]
    assert [f.approver_role for f in found] == ["security"], result.to_json()
    assert result.decision == "needs_approval"
    assert not any(s in json.dumps(result.to_json()) for s in SECRETS)


def test_set_role_none_does_not_fire(engine: EmbeddedEngine) -> None:
    result = review(
        ReviewRequest(
            repo="",
            commit="",
            environment="production",
            target="db",
            dialect="mysql",
            migrations=[MigrationFile(path="V1__x.sql", content=b"SET ROLE NONE;")],
        ),
        engine=engine,
    )
    assert not [f for f in result.findings if f.rule.startswith("privileged-")]
