"""goose, dbmate and sql-migrate files: only the Up section is reviewed and run, the Down
section is the file's rollback, StatementEnd ends a statement, no-transaction modes are
facts. Server parse, runner split and the review, on the same files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlgate.parse import parse_file
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, prepare_input, review
from sqlgate_client.runner.migrations import Timeouts, load
from sqlgate_client.toolformat import up_section

ROOT = Path(__file__).resolve().parents[2]

GOOSE = """-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at = now(); RETURN NEW; END $$
-- +goose StatementEnd
CREATE TABLE items (id bigint PRIMARY KEY, updated_at timestamptz);

-- +goose Down
DROP TABLE users;
DROP FUNCTION touch();
"""

DBMATE = """-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY items_updated ON items (updated_at);

-- migrate:down
DROP INDEX items_updated;
TRUNCATE orders;
"""

SQL_MIGRATE = """-- +migrate Up notransaction
ALTER TABLE items ADD COLUMN note text;
-- +migrate Down
ALTER TABLE items DROP COLUMN note;
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    e = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    yield e
    e.close()


def _server(text: str) -> list[str]:
    return [s.kind for s in parse_file("f.sql", text.encode(), "postgres", None, 64).statements]


def _runner(tmp_path: Path, text: str) -> list[str]:
    f = tmp_path / "f.sql"
    f.write_text(text)
    return [
        s.text.strip() for s in load(str(f), Timeouts("5s", "1min"), server_version=None).statements
    ]


def test_goose_up_only_statement_end_without_semicolon(tmp_path: Path) -> None:
    # The function body ends at StatementEnd with no `;`: one statement, as goose runs it;
    # the Down section's DROP TABLE is neither reviewed nor run.
    assert _server(GOOSE) == ["create_function", "create_table"]
    ran = _runner(tmp_path, GOOSE)
    assert len(ran) == 2
    assert ran[0].startswith("CREATE FUNCTION touch()") and ran[0].endswith("END $$")
    assert ran[1].startswith("CREATE TABLE items")
    assert not any("DROP" in s for s in ran)
    tool = up_section(GOOSE)
    assert (tool.tool, tool.has_down, tool.transaction) == ("goose", True, True)
    # positions are the file's: same length, same lines
    assert len(tool.text) == len(GOOSE) and tool.text.count("\n") == GOOSE.count("\n")


@pytest.mark.parametrize(
    ("text", "tool", "transaction", "kinds"),
    [
        (DBMATE, "dbmate", False, ["create_index"]),
        (SQL_MIGRATE, "sql-migrate", False, ["add_column"]),
        ("-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n", "goose", False, ["select"]),
        ("-- migrate:up\nSELECT 1;\n-- migrate:down\n", "dbmate", True, ["select"]),
        # lower-case, extra spaces: the tools match these too
        ("--  +goose up\nselect 1;\n--   +goose down\ndrop table t;\n", "goose", True, ["select"]),
    ],
)
def test_tools_and_transaction_modes(
    tmp_path: Path, text: str, tool: str, transaction: bool, kinds: list[str]
) -> None:
    got = up_section(text)
    assert (got.tool, got.transaction) == (tool, transaction)
    assert _server(text) == kinds
    assert len(_runner(tmp_path, text)) == len(kinds)


def test_plain_sql_is_unchanged() -> None:
    text = "-- a comment mentioning +goose Up in passing\nSELECT 1;\n"
    assert up_section("SELECT 1;\n").tool is None
    assert up_section(text).text == text and up_section(text).tool is None


def test_statement_before_the_up_annotation_is_reviewed(tmp_path: Path) -> None:
    text = "DROP TABLE legacy;\n-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n"
    assert _server(text) == ["drop_table", "select"]
    assert len(_runner(tmp_path, text)) == 2


def test_review_down_is_rollback_not_forward_change(engine: EmbeddedEngine) -> None:
    files = [MigrationFile("db/20240101_items.sql", GOOSE.encode())]
    request = ReviewRequest(
        repo="", commit="", environment="production", target="t", dialect="postgres",
        migrations=files,
    )  # fmt: skip
    result = review(request, engine=engine)
    rules = {f.rule for f in result.findings}
    assert "drop-table" not in rules and "rollback-missing" not in rules
    doc = prepare_input(request).policy_input
    assert doc["files"][0]["down_file"] == "db/20240101_items.sql#down"
    assert doc["files"][0]["tool"] == {"name": "goose", "transaction": True}
    # without its Down section the same change has no rollback
    up_only = GOOSE.split("-- +goose Down", maxsplit=1)[0].replace(
        "CREATE TABLE", "ALTER TABLE x ADD c int;\nCREATE TABLE"
    )
    files = [MigrationFile("db/20240101_items.sql", up_only.encode())]
    result = review(
        ReviewRequest(repo="", commit="", environment="production", target="t",
                      dialect="postgres", migrations=files),
        engine=engine,
    )  # fmt: skip
    assert "rollback-missing" in {f.rule for f in result.findings}
