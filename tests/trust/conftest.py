"""Fixtures for the trust tests: a fresh keyset per test (generated under tmp_path,
never committed), a fixed clock, and a small set of migration files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import sha256_hex

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
FILES = {
    "migrations/001_users.sql": b"CREATE TABLE users (id bigint PRIMARY KEY);\n",
    "migrations/002_index.sql": b"CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
}


@pytest.fixture
def keyset(tmp_path: Path) -> Keyset:
    return Keyset.generate(tmp_path / "keys", now=NOW)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def files() -> dict[str, bytes]:
    return dict(FILES)


@pytest.fixture
def digests() -> dict[str, str]:
    return {path: sha256_hex(data) for path, data in FILES.items()}
