"""MySQL: sqlglot builds the model; DELIMITER procedures; what is not understood is refused."""
# ruff: noqa: E501 - case tables read best one case per line

from __future__ import annotations

from typing import Any

import pytest

from .helpers import kinds, one, parse

CASES: list[tuple[str, dict[str, Any]]] = [
    ("DROP TABLE IF EXISTS `Users`", {"kind": "drop_table", "tables": ["Users"], "if_exists": True}),
    ("ALTER TABLE t ADD COLUMN a INT NOT NULL", {"kind": "add_column", "table": "t"}),
    ("ALTER TABLE t DROP COLUMN a", {"kind": "drop_column", "column": "a"}),
    ("ALTER TABLE t MODIFY COLUMN a BIGINT", {"kind": "alter_column_type", "column": "a", "type": "BIGINT"}),
    ("ALTER TABLE t RENAME COLUMN a TO b", {"kind": "rename_column", "column": "a", "new_name": "b"}),
    ("ALTER TABLE t RENAME TO u", {"kind": "rename_table", "table": "t", "new_name": "u"}),
    ("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (o) REFERENCES orgs (id)", {"kind": "add_foreign_key", "columns": ["o"], "ref_table": "orgs"}),
    ("CREATE UNIQUE INDEX ix ON t (a, b)", {"kind": "create_index", "name": "ix", "table": "t", "columns": ["a", "b"], "unique": True}),
    ("DROP INDEX ix ON t", {"kind": "drop_index", "names": ["ix"], "table": "t"}),
    ("TRUNCATE TABLE t", {"kind": "truncate", "tables": ["t"]}),
    ("UPDATE t SET a = 1", {"kind": "update", "has_where": False}),
    ("DELETE FROM t WHERE id = 1", {"kind": "delete", "has_where": True}),
    ("INSERT INTO t (a) VALUES (1)", {"kind": "insert", "table": "t", "from_select": False}),
    ("SET FOREIGN_KEY_CHECKS = 0", {"kind": "set", "name": "foreign_key_checks", "value": "0"}),
    ("DROP DATABASE prod", {"kind": "drop_database", "name": "prod"}),
    ("DROP SCHEMA prod", {"kind": "drop_database", "name": "prod"}),
    ("START TRANSACTION", {"kind": "transaction", "action": "begin"}),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_mysql_kind_fields(sql: str, expected: dict[str, Any]) -> None:
    got = one(sql, "mysql")
    assert {k: got.get(k) for k in expected} == expected
    assert got["facts"] == {}  # facts come from sqlgate.facts, not the parser


def test_mysql_create_table_keeps_case_keys_and_fks() -> None:
    got = one(
        "CREATE TABLE `Orders` (id INT AUTO_INCREMENT PRIMARY KEY, userId INT NOT NULL, "
        "KEY idx_user (userId), CONSTRAINT fk_u FOREIGN KEY (userId) REFERENCES Users (id) "
        "ON DELETE CASCADE) ENGINE=InnoDB",
        "mysql",
    )
    assert got["table"] == "Orders"
    assert got["foreign_keys"][0]["columns"] == ["userId"]
    assert got["foreign_keys"][0]["on_delete"] == "cascade"
    assert {(c["constraint_type"], tuple(c["columns"])) for c in got["constraints"]} == {
        ("primary_key", ("id",)),
        ("index", ("userId",)),
    }


def test_delimiter_procedure_is_one_statement() -> None:
    r = parse(
        "DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  UPDATE t SET a = 1;\n  SELECT 1;\nEND$$\n"
        "DELIMITER ;\nDROP PROCEDURE p;\n",
        "mysql",
    )
    assert r.statement_count == 2
    assert r.statements[0].to_json()["line"] == 2
    assert r.statements[0].end_line == 6
    assert kinds(r.statements)[1] == "drop_object"


def test_executable_comment_fails_closed() -> None:
    got = one("/*!40101 DROP TABLE t */", "mysql")
    assert got["kind"] == "unknown" and got["opaque"]
    assert "executable comment" in got["reason"]


@pytest.mark.parametrize(
    "sql", ["RENAME TABLE a TO b", "PREPARE s FROM @q", "ALTER TABLE t ADD COLUMN (a INT"]
)
def test_mysql_not_understood_is_unknown(sql: str) -> None:
    got = one(sql, "mysql")
    assert got["kind"] == "unknown" and got["reason"]


def test_call_is_modelled_and_opaque() -> None:
    got = one("CALL add_index(1, 'x')", "mysql")
    assert (got["kind"], got["name"], got["opaque"]) == ("call", "add_index", True)
