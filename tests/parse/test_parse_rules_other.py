"""Parser fields the privileged and MySQL online-DDL rules need (docs/contract.md §1):
ALGORITHM/LOCK, placement, charset, index type, DROP FOREIGN KEY, inline REFERENCES,
ALTER SYSTEM, roles, COPY to/from a server file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlgate.parse import SourceFile, parse_migrations


def one(sql: str, dialect: str = "mysql") -> dict[str, Any]:
    parsed = parse_migrations([SourceFile("V1__x.sql", sql.encode())], dialect)  # type: ignore[arg-type]
    (s,) = parsed.statements
    return s.to_json()


def test_alter_table_algorithm_and_lock_reach_every_action() -> None:
    parsed = parse_migrations(
        [
            SourceFile(
                "a.sql",
                b"ALTER TABLE t ADD COLUMN c int, DROP COLUMN d, ALGORITHM=INPLACE, LOCK=NONE;",
            )
        ],
        "mysql",
    )
    docs = [s.to_json() for s in parsed.statements]
    assert [d["kind"] for d in docs] == ["add_column", "drop_column"]
    assert {(d["algorithm"], d["lock_option"]) for d in docs} == {("INPLACE", "NONE")}


def test_no_clauses_means_null() -> None:
    d = one("ALTER TABLE t ADD COLUMN c int;")
    assert d["algorithm"] is None and d["lock_option"] is None and d["placement"] is None


@pytest.mark.parametrize(
    ("sql", "kind", "algorithm", "lock"),
    [
        ("ALTER TABLE t ALGORITHM=COPY, ADD COLUMN d int", "add_column", "COPY", None),
        ("ALTER TABLE t RENAME TO u, ALGORITHM=INSTANT", "rename_table", "INSTANT", None),
        ("ALTER TABLE t DROP PRIMARY KEY, LOCK=SHARED", "alter_table_other", None, "SHARED"),
        ("CREATE INDEX i ON t (a) LOCK=EXCLUSIVE", "create_index", None, "EXCLUSIVE"),
        (
            "CREATE UNIQUE INDEX u ON t (e) ALGORITHM=INPLACE LOCK=NONE",
            "create_index",
            "INPLACE",
            "NONE",
        ),
    ],
)
def test_online_clauses(sql: str, kind: str, algorithm: str | None, lock: str | None) -> None:
    d = one(sql + ";")
    assert (d["kind"], d["algorithm"], d["lock_option"]) == (kind, algorithm, lock)


def test_modify_keeps_placement_definition_and_charset() -> None:
    d = one("ALTER TABLE t MODIFY c varchar(10) CHARACTER SET utf8mb4 NOT NULL AFTER b;")
    assert d["kind"] == "alter_column_type"
    assert d["placement"] == "AFTER b"
    assert d["charset"] == "utf8mb4"
    assert d["definition"]["not_null"] is True and d["definition"]["type"] == "VARCHAR(10)"


def test_add_column_first_and_inline_references() -> None:
    d = one("ALTER TABLE t ADD COLUMN c int REFERENCES u (id) FIRST;")
    assert d["placement"] == "FIRST"
    assert d["inline_references"] == "u"
    assert d["foreign_key"] is None  # MySQL ignores it: no foreign key is modelled


@pytest.mark.parametrize(
    ("sql", "itype"),
    [
        ("ALTER TABLE t ADD FULLTEXT INDEX ft (body)", "fulltext"),
        ("ALTER TABLE t ADD SPATIAL INDEX sp (g)", "spatial"),
        ("CREATE FULLTEXT INDEX ft ON t (body)", "fulltext"),
        ("CREATE SPATIAL INDEX sp ON t (g)", "spatial"),
        ("CREATE INDEX i ON t (a)", None),
    ],
)
def test_index_type(sql: str, itype: str | None) -> None:
    d = one(sql + ";")
    assert d["kind"] == "create_index" and d["index_type"] == itype and d["table"] == "t"


def test_charset_conversion() -> None:
    d = one("ALTER TABLE `t` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, ALGORITHM=COPY;")
    assert (d["kind"], d["subtype"], d["table"], d["algorithm"]) == (
        "alter_table_other",
        "ConvertToCharset",
        "t",
        "COPY",
    )
    assert one("ALTER TABLE t CHARACTER SET utf8mb4;")["subtype"] == "TableCharset"


def test_a_command_that_does_not_match_stays_unknown() -> None:
    assert one("CREATE FULLTEXT INDEX ft ON t (body) garbage here;")["kind"] == "unknown"
    assert (
        one("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4, DROP COLUMN x;")["kind"] == "unknown"
    )


def test_drop_foreign_key_is_a_typed_drop_constraint() -> None:
    d = one("ALTER TABLE t DROP FOREIGN KEY fk1;")
    assert (d["kind"], d["name"], d["constraint_type"]) == ("drop_constraint", "fk1", "foreign_key")


def test_postgres_has_null_mysql_fields() -> None:
    d = one("ALTER TABLE t ADD COLUMN c int;", "postgres")
    assert d["algorithm"] is None and d["placement"] is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "ALTER SYSTEM SET work_mem = '1GB'",
            {"kind": "alter_system", "name": "work_mem", "value": "1GB"},
        ),
        ("ALTER SYSTEM RESET ALL", {"kind": "alter_system", "name": "all", "value": None}),
        (
            "CREATE ROLE r LOGIN SUPERUSER PASSWORD 'secret'",
            {
                "kind": "role",
                "operation": "create",
                "names": ["r"],
                "options": ["canlogin", "superuser", "password"],
            },
        ),
        (
            "ALTER USER u WITH NOSUPERUSER",
            {"kind": "role", "operation": "alter", "names": ["u"], "options": ["nosuperuser"]},
        ),
        (
            "DROP ROLE a, b",
            {"kind": "role", "operation": "drop", "names": ["a", "b"], "options": []},
        ),
        ("COPY t FROM '/etc/passwd'", {"kind": "copy", "server_file": True, "program": False}),
        ("COPY t TO STDOUT", {"kind": "copy", "server_file": False, "program": False}),
        ("COPY t FROM PROGRAM 'curl x'", {"kind": "copy", "server_file": False, "program": True}),
    ],
)
def test_postgres_privileged_statements(sql: str, expected: dict[str, Any]) -> None:
    d = one(sql + ";", "postgres")
    assert {k: d[k] for k in expected} == expected
    assert "secret" not in str({k: v for k, v in d.items() if k != "text"})


def test_alter_role_set_is_a_role_change_and_a_role_scoped_setting() -> None:
    sql = b"ALTER ROLE r SET search_path = x;"
    parsed = parse_migrations([SourceFile("V1__x.sql", sql)], "postgres")
    role, setting = (s.to_json() for s in parsed.statements)
    assert [role[k] for k in ("kind", "operation", "names", "options")] == [
        "role",
        "alter",
        ["r"],
        ["set search_path"],
    ]
    assert [setting[k] for k in ("kind", "name", "value", "scope")] == [
        "set",
        "search_path",
        "x",
        "role",
    ]
