"""`sqlgate catalog` end to end through the real entry point, and DSN recognition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlgate.catalog import load_catalog
from sqlgate.catalog.dsn import dialect_of, parse_mysql_url
from sqlgate.cli.catalog import DSN_ENV
from sqlgate.cli.main import main
from sqlgate.errors import CatalogError


@pytest.mark.postgres
def test_prints_catalog_json(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--dsn", pg_dsn]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["dialect"] == "postgres"
    assert out.endswith("}\n")


@pytest.mark.postgres
def test_output_file_round_trips_through_load_catalog(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, pg_dsn)
    target = tmp_path / "catalog.json"
    assert main(["catalog", "--output", str(target)]) == 0
    doc = load_catalog(target)
    assert doc["database"] == json.loads(target.read_text())["database"]


def test_connection_failure_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    dsn = "postgresql://postgres:s3cret-pw@127.0.0.1:1/db?connect_timeout=2"
    assert main(["catalog", "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL" in err
    assert "s3cret-pw" not in err


def test_mysql_connection_failure_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--dsn", "mysql://root:s3cret-pw@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to MySQL" in err and "s3cret-pw" not in err


def test_missing_dsn_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DSN_ENV, raising=False)
    assert main(["catalog"]) == 2
    assert "no DSN" in capsys.readouterr().err


def test_unsupported_scheme_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--dsn", "sqlite:///tmp/x.db"]) == 2
    assert "unsupported DSN scheme 'sqlite'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("dsn", "dialect"),
    [
        ("postgresql://u@h/db", "postgres"),
        ("postgres://u@h/db", "postgres"),
        ("POSTGRESQL://u@h/db", "postgres"),
        ("host=127.0.0.1 dbname=app", "postgres"),
        ("mysql://u:p@h:3306/db", "mysql"),
        ("mariadb://u@h/db", "mysql"),
    ],
)
def test_dialect_of(dsn: str, dialect: str) -> None:
    assert dialect_of(dsn) == dialect


@pytest.mark.parametrize("dsn", ["", "   ", "just-a-name", "redis://h", "http://h/db"])
def test_unrecognised_dsns_are_refused(dsn: str) -> None:
    with pytest.raises(CatalogError):
        dialect_of(dsn)


def test_parse_mysql_url_decodes_credentials() -> None:
    target = parse_mysql_url("mysql://app%40ro:p%3Aw%2Fd@db.internal:3307/shop")
    assert (target.user, target.password) == ("app@ro", "p:w/d")
    assert (target.host, target.port, target.database) == ("db.internal", 3307, "shop")
    assert parse_mysql_url("mysql://h").port == 3306


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("mysql://h/db?ssl=1", "query parameters"),
        ("mysql://h:notaport/db", "port"),
        ("mysql://h/db/extra", "single database"),
    ],
)
def test_parse_mysql_url_refuses(dsn: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        parse_mysql_url(dsn)
