"""Model fields the PostgreSQL rule set needs (truncate cascade, domains, detach, object ops)."""

from __future__ import annotations

import pytest

from .helpers import one


def test_truncate_cascade() -> None:
    assert one("TRUNCATE t CASCADE")["cascade"] is True
    assert one("TRUNCATE t")["cascade"] is False


def test_create_domain_constraints() -> None:
    got = one("CREATE DOMAIN pos AS int NOT NULL CHECK (VALUE > 0)")
    assert (got["kind"], got["type_kind"]) == ("create_type", "domain")
    assert got["constraints"] == ["not_null", "check"]
    assert one("CREATE DOMAIN d AS text")["constraints"] == []


@pytest.mark.parametrize(
    ("sql", "action", "not_valid"),
    [("ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0)", "add_constraint", False),
     ("ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID", "add_constraint", True),
     ("ALTER DOMAIN d DROP CONSTRAINT c", "drop_constraint", False),
     ("ALTER DOMAIN d VALIDATE CONSTRAINT c", "validate_constraint", False),
     ("ALTER DOMAIN d SET DEFAULT 1", "set_default", False),
     ("ALTER DOMAIN d DROP DEFAULT", "drop_default", False),
     ("ALTER DOMAIN d SET NOT NULL", "set_not_null", False),
     ("ALTER DOMAIN d DROP NOT NULL", "drop_not_null", False)],
)  # fmt: skip
def test_alter_domain(sql: str, action: str, not_valid: bool) -> None:
    got = one(sql)
    assert (got["kind"], got["name"], got["action"], got["not_valid"]) == (
        "alter_domain", "d", action, not_valid,
    )  # fmt: skip


def test_detach_partition_concurrently() -> None:
    got = one("ALTER TABLE t DETACH PARTITION p CONCURRENTLY")
    assert (got["subtype"], got["concurrently"]) == ("AT_DetachPartition", True)
    assert one("ALTER TABLE t DETACH PARTITION p")["concurrently"] is False


@pytest.mark.parametrize(
    ("sql", "operation"),
    [("ALTER SEQUENCE s RENAME TO s2", "rename"),
     ("ALTER TABLE t SET SCHEMA s", "set_schema"),
     ("ALTER FUNCTION f() OWNER TO r", "owner"),
     ("ALTER SEQUENCE s INCREMENT BY 2", "alter")],
)  # fmt: skip
def test_alter_object_operation(sql: str, operation: str) -> None:
    got = one(sql)
    assert (got["kind"], got["operation"]) == ("alter_object", operation)
