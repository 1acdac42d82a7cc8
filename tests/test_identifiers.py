"""Unicode identifier facts (sqlgate.identifiers): NFC, scripts, invisible characters."""

from __future__ import annotations

import pytest
from sqlgate import identifiers
from sqlgate.identifiers import identifier_fact, identifiers_of
from sqlgate.parse import SourceFile, parse_migrations


@pytest.mark.parametrize(
    ("name", "nfc", "scripts", "invisible"),
    [
        ("users", True, ["LATIN"], False),
        ("user_id2", True, ["LATIN"], False),
        ("us\u0435rs", True, ["CYRILLIC", "LATIN"], False),  # Cyrillic e
        ("\u03b1lpha", True, ["GREEK", "LATIN"], False),
        ("caf\u00e9", True, ["LATIN"], False),
        ("cafe\u0301", False, ["LATIN"], False),  # e + combining acute: not NFC
        ("a\u200bb", True, ["LATIN"], True),  # zero-width space
        ("abc\u202edcb", True, ["LATIN"], True),  # right-to-left override
        ("a\u00a0b", True, ["LATIN"], True),  # no-break space
        ("my table", True, ["LATIN"], False),  # an ASCII space is visible
        ("\u30e6\u30fc\u30b6\u30fc\u8868", True, ["HAN", "KATAKANA"], False),
        ("\u3164", True, [], True),  # Hangul filler renders as nothing
        ("123", True, [], False),
    ],
)
def test_identifier_fact(name: str, nfc: bool, scripts: list[str], invisible: bool) -> None:
    assert identifier_fact(name) == {
        "name": name,
        "nfc": nfc,
        "scripts": scripts,
        "invisible": invisible,
    }


def test_identifiers_of_a_create_table_split_and_deduplicated() -> None:
    (s,) = parse_migrations(
        [
            SourceFile(
                "a.sql",
                'CREATE TABLE public."us\u0435rs" (id int, "n\u200bame" text, id2 int);'.encode(),
            )
        ],
        "postgres",
    ).statements
    facts = {f["name"]: f for f in identifiers_of(s)}
    assert list(facts) == ["public", "us\u0435rs", "id", "n\u200bame", "id2"]
    assert facts["us\u0435rs"]["scripts"] == ["CYRILLIC", "LATIN"]
    assert facts["n\u200bame"]["invisible"] is True
    assert facts["public"] == identifier_fact("public")


def test_settings_are_not_identifiers() -> None:
    (s,) = parse_migrations(
        [SourceFile("a.sql", b"SET lock_timeout = '1s';")], "postgres"
    ).statements
    assert identifiers_of(s) == []


def test_mysql_column_rename_names_both_columns() -> None:
    (s,) = parse_migrations(
        [SourceFile("a.sql", "ALTER TABLE t RENAME COLUMN a TO \u0430;".encode())], "mysql"
    ).statements
    names = {f["name"]: f["scripts"] for f in identifiers_of(s)}
    assert names == {"t": ["LATIN"], "a": ["LATIN"], "\u0430": ["CYRILLIC"]}


@pytest.mark.parametrize("code", range(128))
def test_ascii_fast_path_agrees_with_the_unicode_database(code: int) -> None:
    name = f"a{chr(code)}b"
    assert identifiers._classify(name) == identifiers._classify_unicode(name)
