"""``sqlgate-runner apply`` end to end up to redemption: every refusal has its exit code
and executes nothing. Tokens are real ones, signed with the server's own issuer and a
freshly generated keyset; the database is the session's real PostgreSQL."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from bindings import binding_for, binding_of_files
from runner_db import Db
from sqlgate.trust.keys import Keyset
from sqlgate.trust.tokens import issue_token
from sqlgate_client.runner.cli import main

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "127.0.0.1:1"


class Setup:
    def __init__(self, db: Db, tmp: Path) -> None:
        self.db = db
        self.keys = Keyset.generate(tmp / "keys")
        self.keys_file = tmp / "pinned.json"
        self.keys_file.write_text(self.keys.public_keyset().to_json())
        self.dsn = psycopg.conninfo.make_conninfo(db.dsn, options=f"-c search_path={db.schema}")

    def token(self, digests: dict[str, str], **over: object) -> str:
        args: dict[str, object] = {
            "verdict_id": "verdict-1",
            "digests": digests,
            "environment": "production",
            "target": "main-db",
            "runner": "deploy-1",
        }
        args.setdefault("binding", _binding(digests))
        args.update(over)
        signer = over.pop("signer", None) or self.keys.signer("token")
        args.pop("signer", None)
        return issue_token(signer, **args).token  # type: ignore[arg-type]

    def apply(self, token: str, *paths: str, server: str = UNREACHABLE) -> int:
        return main(
            [
                "apply",
                "--server",
                server,
                "--dsn",
                self.dsn,
                "--env",
                "production",
                "--target",
                "main-db",
                "--runner-id",
                "deploy-1",
                "--token",
                token,
                "--keys",
                str(self.keys_file),
                "--rpc-timeout",
                "2",
                "--state-dir",
                str(self.db.tmp / "state"),
                "--history-table",
                self.db.history_table,
                *paths,
            ]
        )


@pytest.fixture
def setup(db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.chdir(db.tmp)
    return Setup(db, tmp_path)


def _binding(digests: dict[str, str]) -> dict[str, object]:
    """What a review of these files binds when they are on disk as hashed, else digests only."""
    files = {p: Path(p).read_bytes() for p in sorted(digests) if Path(p).exists()}
    if set(files) == set(digests) and all(_digest(p) == digests[p] for p in files):
        return binding_of_files(files)
    return binding_for(digests)


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _nothing_ran(db: Db) -> bool:
    return db.scalar("SELECT to_regclass('t1') IS NULL") is True


def test_valid_token_is_redeemed_before_anything_runs(setup: Setup) -> None:
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    token = setup.token({"V1__t.sql": _digest("V1__t.sql")})
    assert setup.apply(token, "V1__t.sql") == 17  # server unreachable: no redemption
    assert _nothing_ran(setup.db)


def test_forged_token_exit_10(setup: Setup, tmp_path: Path) -> None:
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    other = Keyset.generate(tmp_path / "other")
    token = setup.token({"V1__t.sql": _digest("V1__t.sql")}, signer=other.signer("token"))
    assert setup.apply(token, "V1__t.sql") == 10
    assert _nothing_ran(setup.db)


def test_expired_token_exit_11(setup: Setup) -> None:
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    past = datetime.now(UTC) - timedelta(hours=1)
    token = setup.token({"V1__t.sql": _digest("V1__t.sql")}, now=past)
    assert setup.apply(token, "V1__t.sql") == 11
    assert _nothing_ran(setup.db)


@pytest.mark.parametrize(
    "over", [{"environment": "staging"}, {"target": "other-db"}, {"runner": "someone-else"}]
)
def test_context_mismatch_exit_12(setup: Setup, over: dict[str, str]) -> None:
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    token = setup.token({"V1__t.sql": _digest("V1__t.sql")}, **over)
    assert setup.apply(token, "V1__t.sql") == 12
    assert _nothing_ran(setup.db)


def test_changed_bytes_exit_13(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    token = setup.token({"V1__t.sql": _digest("V1__t.sql")})
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int); DROP TABLE users;\n")
    assert setup.apply(token, "V1__t.sql") == 13
    assert "other bytes" in capsys.readouterr().err
    assert _nothing_ran(setup.db)


def test_token_for_other_paths_exit_12_says_run_from_repo_root(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    # check ran from the repository root and submitted db/V1__t.sql; the runner is
    # started inside db/ and hashes the same bytes as V1__t.sql
    setup.db.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    token = setup.token({"db/V1__t.sql": _digest("V1__t.sql")})
    assert setup.apply(token, "V1__t.sql") == 12
    err = capsys.readouterr().err
    assert "covers the path(s) db/V1__t.sql but this run hashed V1__t.sql" in err
    assert "same repository root" in err and "other bytes" not in err
    assert _nothing_ran(setup.db)


def test_history_conflict_exit_15_before_redemption(setup: Setup) -> None:
    first = setup.db.write("V1__t.sql", "CREATE TABLE t0 (id int);\n")
    assert setup.db.run(first).error is None  # applied earlier
    setup.db.write("V1__t.sql", "CREATE TABLE t0 (id int, x int);\n")  # then edited
    setup.db.write("V2__t.sql", "CREATE TABLE t1 (id int);\n")
    token = setup.token({"V1__t.sql": _digest("V1__t.sql"), "V2__t.sql": _digest("V2__t.sql")})
    assert setup.apply(token, "V1__t.sql", "V2__t.sql") == 15
    assert _nothing_ran(setup.db)


def test_usage_errors_exit_2(setup: Setup) -> None:
    assert main(["apply", "--server", UNREACHABLE]) == 2
    assert main(["frobnicate"]) == 2


def test_importing_the_runner_pulls_in_no_server_parser_or_engine() -> None:
    code = (
        "import sys, json, sqlgate_client.runner.cli, sqlgate_client.runner.apply;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlgate', 'sqlglot', 'sqlglotc', 'pglast', 'regorus', 'regopy'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "clients")},
    )
    assert out.stdout.strip() == "[]"
