"""Errors never echo secrets: store URL passwords in config errors, API tokens in refusals.

Finding: ``open_store`` quoted the whole store URL in its ConfigError, so a typo in the
scheme (``postgress://sqlgate:<password>@db/...``) printed the password to the server's
stderr and logs. URLs are now quoted with the password replaced by ``***``.
"""

from __future__ import annotations

import pytest
from sqlgate.errors import ConfigError, StoreError
from sqlgate.store import PostgresStore, open_store

SECRET = "hunter2-Zq9"


@pytest.mark.parametrize(
    "url",
    [
        f"postgress://sqlgate:{SECRET}@127.0.0.1/db",
        f"mysql://root:{SECRET}@127.0.0.1/db",
        f"sqlite://u:{SECRET}@host/file.db",
    ],
)
def test_bad_store_url_error_hides_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_store(url)
    assert SECRET not in str(info.value)
    assert "***" in str(info.value)


def test_unreachable_postgres_store_error_hides_the_password() -> None:
    # a real connection attempt (nothing listens on port 1): libpq's message names the
    # host and port, never the password
    with pytest.raises(StoreError) as info:
        PostgresStore(f"postgresql://sqlgate:{SECRET}@127.0.0.1:1/db")
    assert SECRET not in str(info.value)
