"""The whole path, end to end, with real parts only: ``sqlgate check`` and ``sqlgate
approve`` (the CLIs, as subprocesses) against the project's server on 127.0.0.1, then
``.venv/bin/sqlgate-runner apply --verdict ID`` (a subprocess: it asks for the token
itself, pins the keys, verifies, redeems, applies, reports) against a real PostgreSQL
database, one schema per test. Every test ends with the audit chain verified.

Paths: check and the runner both run from the test's repository root (``repo``) and
name the files ``db/V…sql``, so the digests they compute are under the same paths.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from live import RUNNER, Live, live_server
from psycopg import sql
from sqlgate_client.runner.remote import Remote

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent
ENV, TARGET = "production", "main-db"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_server(tmp_path_factory.mktemp("server")) as served:
        yield served


@dataclass
class Repo:
    """One test's repository root, target schema and runner state dir."""

    live: Live
    root: Path
    dsn: str  # the target database, search_path = the test's schema
    schema: str
    conn: psycopg.Connection[tuple[Any, ...]]

    def write(self, name: str, text: str) -> str:
        path = self.root / "db" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return f"db/{name}"

    def sql(self, query: str) -> Any:
        row = self.conn.execute(query).fetchone()
        return None if row is None else row[0]

    def check(self, *paths: str, expect: int) -> str:
        """``sqlgate check`` as alice; the verdict id (exit code asserted)."""
        out = self._cli(
            "alice",
            "sqlgate",
            "check",
            "--server",
            self.live.address,
            "--env",
            ENV,
            "--target",
            TARGET,
            "--format",
            "json",
            *paths,
        )
        assert out.returncode == expect, out.stdout + out.stderr
        return str(json.loads(out.stdout)["verdict_id"])

    def approve(self, verdict_id: str) -> str:
        """``sqlgate approve`` as bob (approver in production); the new allow verdict."""
        out = self._cli(
            "bob",
            "sqlgate",
            "approve",
            verdict_id,
            "--reason",
            "reviewed: small table, off-peak",
            "--server",
            self.live.address,
            "--json",
        )
        assert out.returncode == 0, out.stdout + out.stderr
        result = json.loads(out.stdout)
        assert result["decision"] == "allow"
        return str(result["verdict_id"])

    def reviewed(self, *paths: str) -> str:
        """An allow verdict for ``paths`` (approving it if policy asks for that)."""
        out = self._cli(
            "alice",
            "sqlgate",
            "check",
            "--server",
            self.live.address,
            "--env",
            ENV,
            "--target",
            TARGET,
            "--format",
            "json",
            *paths,
        )
        assert out.returncode in (0, 3), out.stdout + out.stderr
        verdict_id = str(json.loads(out.stdout)["verdict_id"])
        return verdict_id if out.returncode == 0 else self.approve(verdict_id)

    def runner_args(self, *paths: str, verdict: str = "", token: str = "", **kw: str) -> list[str]:
        auth = ["--verdict", verdict] if verdict else ["--token", token]
        return [
            str(BIN / "sqlgate-runner"),
            "apply",
            "--server",
            self.live.address,
            "--dsn",
            kw.get("dsn", self.dsn),
            "--env",
            ENV,
            "--target",
            kw.get("target", TARGET),
            "--runner-id",
            RUNNER,
            "--state-dir",
            str(self.root / ".sqlgate-runner"),
            "--history-table",
            kw.get("history", f"{self.schema}.schema_history"),
            *(["--lock-timeout", kw["lock_timeout"]] if "lock_timeout" in kw else []),
            *auth,
            *paths,
        ]

    def start(self, *paths: str, **kw: str) -> subprocess.Popen[str]:
        """The runner in the background, its progress lines readable on stderr."""
        return subprocess.Popen(
            self.runner_args(*paths, **kw),
            cwd=self.root,
            env=self.live.env(RUNNER),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *paths: str, **kw: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.runner_args(*paths, **kw),
            cwd=self.root,
            env=self.live.env(RUNNER),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def _cli(self, who: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            cwd=self.root,
            env=self.live.env(who),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def history(self) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            f"SELECT version, path, success, statements_done, verdict_id, token_id, runner_id"
            f" FROM {self.schema}.schema_history ORDER BY version"
        ).fetchall()


def _new_schema(dsn: str) -> tuple[str, str, psycopg.Connection[tuple[Any, ...]]]:
    schema = f"e2e_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
    target = psycopg.conninfo.make_conninfo(dsn, options=f"-c search_path={schema}")
    return schema, target, conn


@pytest.fixture
def repo(pg_dsn: str, live: Live, tmp_path: Path) -> Iterator[Repo]:
    schema, target, conn = _new_schema(pg_dsn)
    try:
        yield Repo(live, tmp_path / "repo", target, schema, conn)
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()
        live.assert_chain_ok()


def _since(live: Live, start: int) -> list[Any]:
    return [e for e in live.events() if e.sequence > start]


def _last_sequence(live: Live) -> int:
    events = live.events()
    return events[-1].sequence if events else 0


def test_checked_approved_applied_once_then_skipped(repo: Repo) -> None:
    repo.conn.execute("CREATE TABLE orders (id bigint PRIMARY KEY, amount numeric(10,2))")
    repo.conn.execute("INSERT INTO orders SELECT g, g / 3.0 FROM generate_series(1, 100) g")
    path = repo.write(
        "V1__amount.sql", "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"
    )
    start = _last_sequence(repo.live)

    needs = repo.check(path, expect=3)  # policy: a type change needs an approval
    approved = repo.approve(needs)
    first = repo.run(path, verdict=approved)
    assert first.returncode == 0, first.stderr
    assert "applied     db/V1__amount.sql (1/1 statements)" in first.stdout
    assert (
        repo.sql(
            "SELECT numeric_precision FROM information_schema.columns"
            f" WHERE table_schema = '{repo.schema}' AND table_name = 'orders'"
            " AND column_name = 'amount'"
        )
        == 20
    )
    [(version, hpath, ok, done, verdict_id, token_id, runner)] = repo.history()
    assert (version, hpath, ok, done, verdict_id, runner) == ("1", path, True, 1, approved, RUNNER)

    events = _since(repo.live, start)
    kinds = [e.kind for e in events]
    assert kinds == ["check", "approve", "token_issue", "token_redeem", "execution_report"]
    assert [e.principal for e in events] == ["alice", "bob", RUNNER, RUNNER, RUNNER]
    assert events[2].details["verdict_id"] == approved
    assert events[2].details["jti"] == token_id  # issued, redeemed, reported: one token
    assert events[3].details["claimed_jti"] == token_id == events[4].details["token_id"]
    assert events[4].details["outcome"] == "succeeded"
    assert f"reported as audit event {events[4].sequence}" in first.stdout

    # the same verdict again: one verdict, one execution — no second token
    second = repo.run(path, verdict=approved)
    assert second.returncode == 14, second.stderr
    assert "already_executed" in second.stderr
    # a new check of the same bytes: already applied, nothing redeemed, executed or reported
    third = repo.run(path, verdict=repo.reviewed(path))
    assert third.returncode == 0, third.stderr
    assert "nothing to apply" in third.stdout
    later = [e.kind for e in _since(repo.live, events[-1].sequence)]
    assert "token_redeem" not in later and "execution_report" not in later
    assert len(repo.history()) == 1


def test_changed_byte_is_refused_13_nothing_executed(repo: Repo) -> None:
    path = repo.write("V1__t.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY);\n")
    verdict = repo.reviewed(path)
    repo.write("V1__t.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY);\r\n")  # one byte more
    start = _last_sequence(repo.live)
    out = repo.run(path, verdict=verdict)
    assert out.returncode == 13, out.stderr
    assert "other bytes" in out.stderr
    assert repo.sql("SELECT to_regclass('t1')") is None
    assert repo.sql(f"SELECT to_regclass('{repo.schema}.schema_history')") is None
    assert [e.kind for e in _since(repo.live, start)] == ["token_issue"]  # never redeemed


def test_reused_token_is_refused_by_the_server_14(repo: Repo, pg_dsn: str) -> None:
    path = repo.write("V1__t.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY);\n")
    verdict = repo.reviewed(path)
    with Remote(repo.live.address, api_token=repo.live.tokens[RUNNER], timeout_s=30) as remote:
        token = remote.issue_token(verdict, ENV, TARGET).token
    # the token is used once, against a copy of the target (another schema) ...
    other_schema, other_dsn, other = _new_schema(pg_dsn)
    try:
        used = repo.run(path, token=token, dsn=other_dsn, history=f"{other_schema}.schema_history")
        assert used.returncode == 0, used.stderr
        assert other.execute("SELECT to_regclass('t1') IS NOT NULL").fetchone() == (True,)
    finally:
        other.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(other_schema)))
        other.close()
    # ... and presented again: the server refuses the replay, nothing runs here
    start = _last_sequence(repo.live)
    again = repo.run(path, token=token)
    assert again.returncode == 14, again.stderr
    assert "FAILED_PRECONDITION: replay" in again.stderr
    assert repo.sql("SELECT to_regclass('t1')") is None
    [event] = _since(repo.live, start)
    assert (event.kind, event.principal, event.details["reason"]) == (
        "token_redeem_failed",
        RUNNER,
        "replay",
    )


def test_wrong_target_is_refused_12(repo: Repo) -> None:
    path = repo.write("V1__t.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY);\n")
    verdict = repo.reviewed(path)
    # asked for a token for another target: the server refuses to issue one
    asked = repo.run(path, verdict=verdict, target="billing-db")
    assert asked.returncode == 12, asked.stderr
    assert "target_mismatch" in asked.stderr
    # a genuine main-db token presented as billing-db: refused offline
    with Remote(repo.live.address, api_token=repo.live.tokens[RUNNER], timeout_s=30) as remote:
        token = remote.issue_token(verdict, ENV, TARGET).token
    start = _last_sequence(repo.live)
    presented = repo.run(path, token=token, target="billing-db")
    assert presented.returncode == 12, presented.stderr
    assert "target='main-db' (expected 'billing-db')" in presented.stderr
    assert _since(repo.live, start) == []  # refused before any server call
    assert repo.sql("SELECT to_regclass('t1')") is None


def test_concurrent_index_is_applied_outside_a_transaction(repo: Repo) -> None:
    repo.conn.execute("CREATE TABLE items (id bigint PRIMARY KEY, sku text)")
    repo.conn.execute("INSERT INTO items SELECT g, 'sku' || g FROM generate_series(1, 1000) g")
    path = repo.write("V1__idx.sql", "CREATE INDEX CONCURRENTLY items_sku ON items (sku);\n")
    out = repo.run(path, verdict=repo.reviewed(path))
    # PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction block: success
    # (and a valid index) means the runner ran it on its own
    assert out.returncode == 0, out.stderr
    assert repo.sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_sku'::regclass")
    assert repo.history()[0][2:4] == (True, 1)


def test_failing_middle_statement_rolls_back_and_is_reported_failed(repo: Repo) -> None:
    path = repo.write(
        "V1__three.sql",
        "CREATE TABLE f1 (id bigint PRIMARY KEY);\n"
        "INSERT INTO f1 VALUES (1), (1);\n"
        "CREATE TABLE f2 (id bigint);\n",
    )
    verdict = repo.reviewed(path)
    start = _last_sequence(repo.live)
    out = repo.run(path, verdict=verdict)
    assert out.returncode == 20, out.stderr
    assert "db/V1__three.sql:2" in out.stderr and "rolled back" in out.stderr
    assert repo.sql("SELECT to_regclass('f1')") is None  # the first statement undone too
    assert repo.sql("SELECT to_regclass('f2')") is None
    [(_, _, ok, done, *_)] = repo.history()
    assert (ok, done) == (False, 0)
    events = _since(repo.live, start)
    assert [e.kind for e in events] == ["token_issue", "token_redeem", "execution_report"]
    assert events[-1].details["outcome"] == "failed"


def test_batched_backfill_interrupted_by_sigint_then_resumed(repo: Repo) -> None:
    rows = 100_000
    repo.conn.execute("CREATE TABLE big (id bigint PRIMARY KEY, label text NOT NULL, n int)")
    repo.conn.execute(f"INSERT INTO big SELECT g, 'row' || g, 0 FROM generate_series(1, {rows}) g")
    path = repo.write(
        "V1__backfill.sql",
        "-- sqlgate:batch key=id size=5000 pause=50ms\n"
        "UPDATE big SET n = n + 1 WHERE label IS NOT NULL;\n",
    )
    verdict = repo.reviewed(path)
    start = _last_sequence(repo.live)
    proc = repo.start(path, verdict=verdict)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:  # progress lines; interrupt once two chunks committed
        seen.append(line)
        if " chunk 2: " in line:
            proc.send_signal(signal.SIGINT)
            break
    rest_out, rest_err = proc.communicate(timeout=300)
    assert proc.returncode == 21, "".join(seen) + rest_err
    done = repo.sql("SELECT count(*) FROM big WHERE n = 1")
    assert done % 5000 == 0 and 10_000 <= done < rows, done  # whole chunks only
    assert repo.sql("SELECT count(*) FROM big WHERE n NOT IN (0, 1)") == 0
    assert repo.history()[0][2] is False
    assert "aborted" in rest_out or "interrupted" in rest_out

    # the interrupted run applied chunks: that verdict is spent (one verdict, one
    # execution); a new check of the same bytes resumes where the history says
    spent = repo.run(path, verdict=verdict)
    assert spent.returncode == 14 and "already_executed" in spent.stderr, spent.stderr
    resumed = repo.run(path, verdict=repo.reviewed(path))  # a fresh verdict for the rest
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after id=" in resumed.stderr
    assert repo.sql("SELECT count(*) FROM big WHERE n = 1") == rows  # every row once
    assert repo.sql("SELECT count(*) FROM big WHERE n <> 1") == 0
    assert repo.history()[0][2:4] == (True, 1)

    events = [e for e in _since(repo.live, start) if e.principal == RUNNER]
    assert [e.kind for e in events] == [
        "token_issue",
        "token_redeem",
        "execution_report",
        "token_issue_failed",  # the spent verdict
        "token_issue",
        "token_redeem",
        "execution_report",
    ]
    assert events[3].details["reason"] == "already_executed"
    assert [e.details["outcome"] for e in events if e.kind == "execution_report"] == [
        "aborted",
        "succeeded",
    ]
    assert events[1].details["claimed_jti"] != events[5].details["claimed_jti"]


def test_report_spooled_while_server_down_is_delivered_once_on_next_run(repo: Repo) -> None:
    repo.conn.execute("CREATE TABLE big (id bigint PRIMARY KEY, label text NOT NULL, n int)")
    repo.conn.execute("INSERT INTO big SELECT g, 'row' || g, 0 FROM generate_series(1, 4000) g")
    path = repo.write(
        "V1__backfill.sql",
        "-- sqlgate:batch key=id size=1000 pause=300ms\n"
        "UPDATE big SET n = n + 1 WHERE label IS NOT NULL;\n",
    )
    verdict = repo.reviewed(path)
    start = _last_sequence(repo.live)
    proc = repo.start(path, verdict=verdict)
    assert proc.stderr is not None
    for line in proc.stderr:  # redeemed and applying: take the server away
        if " chunk 1: " in line:
            repo.live.restart()  # stops it now; back (on another port) below
            break
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err  # applied; only the report is pending
    assert "spooled to" in err
    [spooled] = (repo.root / ".sqlgate-runner" / "spool").glob("*.json")
    report_id = json.loads(spooled.read_text())["report_id"]
    assert repo.sql("SELECT count(*) FROM big WHERE n = 1") == 4000
    by_runner = [e.kind for e in _since(repo.live, start) if e.principal == RUNNER]
    assert by_runner == ["token_issue", "token_redeem"]  # (the restart logs its own start-up)

    # the next run resends first; the verdict then is spent (its report says it applied)
    spent = repo.run(path, verdict=verdict)
    assert spent.returncode == 14, spent.stderr
    assert f"delivered spooled report {report_id}" in spent.stderr
    assert "already_executed" in spent.stderr
    again = repo.run(path, verdict=repo.reviewed(path))
    assert again.returncode == 0, again.stderr
    assert "nothing to apply" in again.stdout
    assert list((repo.root / ".sqlgate-runner" / "spool").glob("*.json")) == []
    reports = [e for e in _since(repo.live, start) if e.kind == "execution_report"]
    assert [(e.details["report_id"], e.details["outcome"]) for e in reports] == [
        (report_id, "succeeded")
    ]


def _check_json(repo: Repo, *args: str) -> tuple[int, dict[str, Any]]:
    out = repo._cli(  # the same CLI call as Repo.check, with other options
        "alice",
        "sqlgate",
        "check",
        "--server",
        repo.live.address,
        "--env",
        ENV,
        "--target",
        TARGET,
        "--format",
        "json",
        *args,
    )
    assert out.returncode in (0, 1, 3), out.stdout + out.stderr
    return out.returncode, json.loads(out.stdout)


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_pending_set_newest_index_is_denied_then_only_pending_is_applied(repo: Repo) -> None:
    # The issue's scenario: the directory's earlier file created users (applied), the
    # newest adds a plain index. Checked as a whole directory the index is "on a table
    # created in this set" and goes quiet; as a pending set it is denied.
    v1 = repo.write("V1__users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n")
    repo.run(v1, verdict=repo.reviewed(v1)).check_returncode()
    repo.conn.execute("INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 1000) g")
    v2 = repo.write("V2__email.sql", "CREATE INDEX users_email_idx ON users (email);\n")

    code, whole = _check_json(repo, "db/")
    assert code == 0 and whole["context_files"] == []  # the false negative being fixed

    _git(repo.root, "init", "-q", "-b", "main")
    _git(repo.root, "add", v1)
    _git(repo.root, "commit", "-qm", "users")
    _git(repo.root, "checkout", "-qb", "feature")
    catalog = repo.root / "catalog.json"
    subprocess.run(
        [str(BIN / "sqlgate"), "catalog", "--dsn", repo.dsn, "-o", str(catalog)],
        check=True,
        capture_output=True,
    )
    history = json.loads(catalog.read_text())["history"]
    assert {"tool": "sqlgate", "table": f"{repo.schema}.schema_history", "applied": ["1"]} in (
        history
    )
    for how in (["--since", "1"], ["--base", "main"], ["--catalog", str(catalog)]):
        code, result = _check_json(repo, *how, "db/")
        assert code == 1, (how, result)
        assert [f["rule"] for f in result["findings"] if f["level"] == "deny"] == [
            "index-not-concurrent"
        ], how
        assert result["reviewed_files"] == [v2] and result["context_files"] == [v1], how
        predicate = json.loads(base64.b64decode(result["verdict"]["payload"]))["predicate"]
        subjects = json.loads(base64.b64decode(result["verdict"]["payload"]))["subject"]
        assert [s["name"] for s in subjects] == [v2]
        assert list(predicate["context"]) == [v1], how

    # The concurrent form, reviewed as a pending set, is applied alone: V1 is skipped.
    repo.write("V2__email.sql", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n")
    code, result = _check_json(repo, "--base", "main", "db/")
    verdict = result["verdict_id"] if code == 0 else repo.approve(result["verdict_id"])
    out = repo.run("db/", verdict=verdict)
    assert out.returncode == 0, out.stderr
    assert "V1__users" not in out.stdout + out.stderr  # context: neither run nor skipped
    assert "applied     db/V2__email.sql (1/1 statements)" in out.stdout
    assert repo.sql("SELECT to_regclass('users_email_idx') IS NOT NULL") is True
    assert [(r[0], r[2]) for r in repo.history()] == [("1", True), ("2", True)]


def test_runner_refuses_a_file_outside_the_verdict_that_is_not_applied_12(repo: Repo) -> None:
    # V1 reviewed only as context (--since 1) but never applied here: the runner must not
    # run V2 on the word of a review that assumed V1 was applied, nor apply V1 unreviewed.
    repo.write("V1__a.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n")
    repo.write("V2__b.sql", "CREATE TABLE b (id bigint PRIMARY KEY);\n")
    code, result = _check_json(repo, "--since", "1", "db/")
    assert code == 0, result
    assert result["context_files"] == ["db/V1__a.sql"]
    out = repo.run("db/", verdict=result["verdict_id"])
    assert out.returncode == 12, out.stdout + out.stderr
    assert "db/V1__a.sql: not covered by the verdict" in out.stderr
    assert repo.sql("SELECT to_regclass('a')") is None
    assert repo.sql("SELECT to_regclass('b')") is None
