"""A real MariaDB/MySQL database per session for the catalog reader's tests.

Like conftest's PostgreSQL fixture: a uniquely named database is created and dropped;
without a reachable server the tests skip with the reason, except under CI=true.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pymysql
import pytest

MYSQL_HOST = os.environ.get("SQLGATE_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("SQLGATE_TEST_MYSQL_PORT", "3306"))
MYSQL_USER = os.environ.get("SQLGATE_TEST_MYSQL_USER", "root")
MYSQL_PASSWORD = os.environ.get("SQLGATE_TEST_MYSQL_PASSWORD", "")


def _no_mysql(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"MySQL/MariaDB is required under CI=true: {reason}")
    pytest.skip(f"no MySQL/MariaDB reachable ({reason}); set SQLGATE_TEST_MYSQL_HOST")


AdminConnection = pymysql.connections.Connection  # runtime class is not generic


def _admin(database: str | None = None) -> AdminConnection:
    return pymysql.connect(
        host=MYSQL_HOST,
        port=MYSQL_PORT,
        user=MYSQL_USER,
        password=MYSQL_PASSWORD,
        database=database,
        autocommit=True,
        connect_timeout=3,
    )


@pytest.fixture(scope="session")
def mysql_dsn() -> Iterator[str]:
    """mysql:// DSN of a fresh, uniquely named database, dropped at the end."""
    try:
        admin = _admin()
    except pymysql.MySQLError as exc:
        _no_mysql(str(exc))
        raise AssertionError("unreachable") from exc
    name = f"sqlgate_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    try:
        auth = quote(MYSQL_USER, safe="")
        if MYSQL_PASSWORD:
            auth += ":" + quote(MYSQL_PASSWORD, safe="")
        yield f"mysql://{auth}@{MYSQL_HOST}:{MYSQL_PORT}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(scope="session")
def mysql_admin(mysql_dsn: str) -> Callable[[str | None], AdminConnection]:
    """Open an administrative (read-write) connection, optionally to one database."""
    return _admin
