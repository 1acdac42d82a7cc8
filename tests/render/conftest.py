"""Realistic check results shared by the renderer tests."""

from __future__ import annotations

from typing import Any

import pytest

V1 = """-- users
CREATE TABLE users (id bigint PRIMARY KEY, email text);
ALTER TABLE orders ADD COLUMN note text DEFAULT now();
DROP TABLE legacy_sessions;
"""
V2 = """SET lock_timeout = '2s';
CREATE INDEX orders_user_idx ON orders (user_id);
UPDATE users SET email = lower(email);
"""


@pytest.fixture
def sources() -> dict[str, str]:
    return {"migrations/V1__init.sql": V1, "migrations/V2__index.sql": V2}


@pytest.fixture
def result() -> dict[str, Any]:
    return {
        "decision": "deny",
        "findings": [
            {
                "rule": "drop-table",
                "level": "approval",
                "file": "migrations/V1__init.sql",
                "line": 4,
                "column": 1,
                "message": 'dropping table "legacy_sessions" loses its data',
                "help": "rename it first and drop it in a later release",
            },
            {
                "rule": "create-index-not-concurrently",
                "level": "deny",
                "file": "migrations/V2__index.sql",
                "line": 2,
                "column": 1,
                "message": 'CREATE INDEX on "orders" blocks writes for the whole build',
                "help": "use CREATE INDEX CONCURRENTLY outside a transaction",
            },
            {
                "rule": "update-without-where",
                "level": "warn",
                "file": "migrations/V2__index.sql",
                "line": 3,
                "column": 1,
                "message": 'UPDATE of "users" has no WHERE: it rewrites every row',
                "help": "batch it: -- sqlgate:batch key=id size=1000",
            },
        ],
        "statements": 6,
        "policy_digest": "sha256:" + "ab" * 32,
        "suppressions": [
            {
                "rule": "volatile-default",
                "file": "migrations/V1__init.sql",
                "line": 3,
                "reason": "orders is empty in every environment (ticket DB-42)",
                "scope": "statement",
            }
        ],
        "verdict_id": "vd_01HZX3",
    }
