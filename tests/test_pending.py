"""Pending sets: context files (already applied) shape the model, only pending ones are
reviewed. Real parser, real policies, embedded engine; --base against a real git repo."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlgate.errors import InputError
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, prepare_input, review
from sqlgate_client.pending import (
    PendingError,
    context_applied,
    context_base,
    context_since,
    git_blob_sha,
    version_of,
)

ROOT = Path(__file__).resolve().parent.parent

USERS = MigrationFile(
    "db/V1__users.sql", b"CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
)
INDEX = MigrationFile("db/V2__email.sql", b"CREATE INDEX users_email_idx ON users (email);\n")


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedEngine]:
    e = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    yield e
    e.close()


def _request(files: list[MigrationFile], **kw: Any) -> ReviewRequest:
    return ReviewRequest(
        repo="acme/shop",
        commit="abc",
        environment="production",
        target="main-db",
        dialect=kw.pop("dialect", "postgres"),
        migrations=files,
        **kw,
    )


def _denies(result: Any) -> list[str]:
    return [f.rule for f in result.findings if f.level == "deny"]


def _catalog(*tables: str, history: list[dict[str, Any]] | None = None) -> bytes:
    doc: dict[str, Any] = {
        "version": 1,
        "dialect": "postgres",
        "server_version": "16.2",
        "server_version_num": 160002,
        "database": "app",
        "taken_at": "2026-01-01T00:00:00Z",
        "tables": [
            {
                "schema": "public",
                "name": t,
                "kind": "table",
                "row_estimate": 100000,
                "size_bytes": 10_000_000,
                "columns": [],
                "indexes": [],
                "constraints": [],
                "foreign_keys": [],
            }
            for t in tables
        ],
        "schemas": ["public"],
        "extensions": [],
    }
    if history is not None:
        doc["history"] = history
    return json.dumps(doc).encode()


def test_whole_directory_goes_quiet_but_each_way_of_saying_pending_denies(
    engine: EmbeddedEngine,
) -> None:
    assert _denies(review(_request([USERS, INDEX]), engine=engine)) == []
    hist = [{"tool": "flyway", "table": "public.flyway_schema_history", "applied": ["1"]}]
    for kw in (
        {"since": "1"},
        {"context_files": (USERS.path,)},
        {"catalog": _catalog("users", history=hist)},
        {
            "catalog": _catalog(
                history=[{"tool": "golang-migrate", "table": "s", "applied": [], "through": "1"}]
            )
        },
    ):
        result = review(_request([USERS, INDEX], **kw), engine=engine)
        assert _denies(result) == ["index-not-concurrent"], kw
        assert [p for p, _ in result.files] == [INDEX.path], kw
        assert [p for p, _ in result.context] == [USERS.path], kw
        assert result.statements == 1
        assert {f.file for f in result.findings} == {INDEX.path}


def test_catalog_table_is_existing_whatever_the_set_says(engine: EmbeddedEngine) -> None:
    # CREATE TABLE IF NOT EXISTS of a table the catalog shows: nothing is created, the
    # index after it locks the existing table. Written differently: schema-qualified,
    # other case of keywords, a plain CREATE TABLE.
    for create in (
        b"CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, email text);\n",
        b"create table if not exists public.users (id bigint primary key, email text);\n",
        b"CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
    ):
        files = [MigrationFile("db/V1__u.sql", create + INDEX.content)]
        result = review(_request(files, catalog=_catalog("users")), engine=engine)
        assert "index-not-concurrent" in _denies(result), create
    # ...but a table the set first drops and then creates is new.
    files = [
        MigrationFile(
            "db/V1__u.sql", b"DROP TABLE users;\nCREATE TABLE users (id bigint, email text);\n"
        ),
        INDEX,
    ]
    result = review(_request(files, catalog=_catalog("users")), engine=engine)
    assert "index-not-concurrent" not in _denies(result)


def test_facts_say_where_tables_and_indexes_come_from() -> None:
    files = [
        USERS,
        MigrationFile(
            "db/V2__more.sql",
            b"CREATE TABLE orders (id bigint PRIMARY KEY);\n"
            b"CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
        ),
    ]
    doc = prepare_input(_request(files, since="1", catalog=_catalog("accounts"))).policy_input
    tables = {t["name"]: t["source"] for t in doc["facts"]["tables"]}
    assert tables == {"accounts": "catalog", "users": "context", "orders": "pending"}
    assert doc["facts"]["tables_created"] == ["orders"]
    sources = {i["name"]: i["source"] for i in doc["facts"]["indexes"]}
    assert sources == {
        "users_pkey": "context",
        "orders_pkey": "pending",
        "users_email_idx": "pending",
    }
    assert [f["path"] for f in doc["files"]] == ["db/V2__more.sql"]
    assert [f["path"] for f in doc["context_files"]] == [USERS.path]
    # statement i is input.statements[i] (main.rego looks findings up that way)
    assert [s["index"] for s in doc["statements"]] == [0, 1]
    assert doc["statements"][1]["facts"]["table_exists"] is True


def test_suppression_in_a_pending_file_still_applies(engine: EmbeddedEngine) -> None:
    index = MigrationFile(
        "db/V2__email.sql",
        b"-- sqlgate:ignore index-not-concurrent -- INC-7: table is tiny\n" + INDEX.content,
    )
    result = review(_request([USERS, index], since="1"), engine=engine)
    assert "index-not-concurrent" not in _denies(result)
    assert [s["rule"] for s in result.suppressions] == ["index-not-concurrent"]


def test_bad_context_is_an_input_error(engine: EmbeddedEngine) -> None:
    with pytest.raises(InputError, match="not among the submitted"):
        review(_request([USERS, INDEX], context_files=("db/V9__x.sql",)), engine=engine)
    with pytest.raises(InputError, match="nothing pending"):
        review(_request([USERS, INDEX], since="2"), engine=engine)
    with pytest.raises(InputError, match="no migration file has that version"):
        review(_request([USERS, INDEX], since="users"), engine=engine)


def test_version_and_since_rules() -> None:
    assert version_of("db/V1_2__x.sql") == "1.2"
    assert version_of("db/V010__x.sql") == "10"
    assert version_of("0003_add.up.sql") == "3"
    assert version_of("20230101120000_init.sql") == "20230101120000"
    assert version_of("migrations/init.sql") == "init"
    paths = ["V1__a.sql", "V1_1__b.sql", "V2__c.sql", "V10__d.sql"]
    assert context_since(paths, "1.1") == ["V1__a.sql", "V1_1__b.sql"]
    assert context_since(paths, "3") == ["V1__a.sql", "V1_1__b.sql", "V2__c.sql"]
    assert context_since(["a.sql", "b.sql", "c.sql"], "b") == ["a.sql", "b.sql"]
    with pytest.raises(PendingError):
        context_since(["a.sql", "V2__x.sql"], "2")


def test_history_matching_per_tool() -> None:
    paths = [
        "prisma/migrations/20230101000000_init/migration.sql",
        "prisma/migrations/20230202000000_more/migration.sql",
        "db/20230101_a.sql",
        "db/V1__x.sql",
    ]
    # Prisma records directory names, sql-migrate file names, Flyway/goose versions.
    assert context_applied(paths, ["20230101000000_init"]) == [paths[0]]
    assert context_applied(paths, ["20230101_a.sql"]) == [paths[2]]
    assert context_applied(paths, ["1.0"]) == [paths[3]]
    assert context_applied(paths, []) == []


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_base_unchanged_files_are_context(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.mkdir()
    (db / "V1__a.sql").write_bytes(b"CREATE TABLE a (id int);\n")
    (db / "V2__b.sql").write_bytes(b"CREATE TABLE b (id int);\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "base")
    _git(tmp_path, "checkout", "-qb", "pr")
    (db / "V2__b.sql").write_bytes(b"CREATE TABLE b (id bigint);\n")  # edited: pending
    (db / "V3__c.sql").write_bytes(b"CREATE TABLE c (id int);\n")  # new, untracked
    files = [(f"db/{p.name}", p, p.read_bytes()) for p in sorted(db.iterdir())]
    assert context_base(files, "main") == ["db/V1__a.sql"]
    # committed on the branch: still pending relative to the merge base
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "pr")
    files = [(f"db/{p.name}", p, p.read_bytes()) for p in sorted(db.iterdir())]
    assert context_base(files, "main") == ["db/V1__a.sql"]
    with pytest.raises(PendingError, match="git"):
        context_base(files, "no-such-ref")
    assert git_blob_sha(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_cli_since_and_base(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.mkdir()
    (db / "V1__users.sql").write_bytes(USERS.content)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "base")
    (db / "V2__email.sql").write_bytes(INDEX.content)
    sqlgate = str(Path(__import__("sys").executable).parent / "sqlgate")
    common = ["check", "--local", "--env", "production", "--policies", str(ROOT / "policies")]
    for extra, code in (([], 0), (["--since", "1"], 1), (["--base", "main"], 1)):
        out = subprocess.run(
            [sqlgate, *common, *extra, "--format", "json", "db"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == code, (extra, out.stdout, out.stderr)
        result = json.loads(out.stdout)
        assert result["server_version"] == "18"
        assert result["server_version_source"] == "default"
    out = subprocess.run(
        [sqlgate, *common, "--base", "nope", "db"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and "--base" in out.stderr


def test_pending_files_are_what_rehearsal_evidence_is_looked_up_by() -> None:
    from sqlgate.review import pending_files

    def digest(m: MigrationFile) -> str:
        return hashlib.sha256(m.content).hexdigest()

    assert pending_files(_request([USERS, INDEX])) == [
        (USERS.path, digest(USERS)),
        (INDEX.path, digest(INDEX)),
    ]
    assert pending_files(_request([USERS, INDEX], since="1")) == [(INDEX.path, digest(INDEX))]
    # an input error is the review's to report: every file
    assert len(pending_files(_request([USERS, INDEX], since="nope"))) == 2
