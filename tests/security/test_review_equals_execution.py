"""What is executed is exactly what was reviewed (issue 8, "Review and execution must
see the same statements"): each trick gets an *allow* verdict from a real server on
127.0.0.1 and is then handed to the real ``sqlgate-runner`` (a subprocess) against a
real PostgreSQL database holding a ``victim`` table. The victim must survive, and the
runner must refuse with its documented exit code (or apply only the reviewed text).

The server here loads a policy that allows everything, on purpose: the runner's
guarantees must hold by design, whatever a policy decides (rules that deny these
statements are a second line, reviewed elsewhere). Variants of each trick are dressed
differently (other settings, other functions, other template syntaxes, other orders).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from serving import address_of, principals_config, serving
from sqlgate.config import EnvironmentRules, PolicyConfig
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent
ENV, TARGET, RUNNER = "production", "main-db", "deploy-1"
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {"author": ("*",)},
    RUNNER: {"runner": ("*",)},
}
ALLOW_ALL = """package sqlgate.main

import rego.v1

result := {"decision": "allow", "findings": [], "suppressions": []}
"""
# The literal: reviewed as one SELECT, executed by a simple-protocol runner under
# standard_conforming_strings = off as a SELECT, a DROP and a comment.
QUOTE_TRICK = "SELECT 'x\\' , ' ; DROP TABLE victim; --';\n"


@dataclass
class Server:
    running: RunningServer
    tokens: dict[str, str]

    @property
    def address(self) -> str:
        return address_of(self.running)

    def env(self, who: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SQLGATE_", "PG"))}
        env.update(SQLGATE_TOKEN=self.tokens[who], **extra)
        return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("allow-all")
    (tmp / "policies").mkdir()
    (tmp / "policies" / "main.rego").write_text(ALLOW_ALL)
    config, tokens = principals_config(
        tmp,
        f"sqlite:///{tmp / 'sqlgate.db'}",
        ROLES,
        {"*": EnvironmentRules(approvers=1)},
    )
    config = dataclasses.replace(
        config, policies=PolicyConfig(dir=tmp / "policies", isolation="thread")
    )
    with serving(config) as running:
        yield Server(running, tokens)


@dataclass
class Target:
    """One test's repository root and target schema (with a ``victim`` table)."""

    server: Server
    root: Path
    admin_dsn: str
    dsn: str
    schema: str
    conn: psycopg.Connection[tuple[Any, ...]]

    def write(self, name: str, text: str) -> str:
        path = self.root / "db" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        return f"db/{name}"

    def victim_alive(self) -> bool:
        row = self.conn.execute(
            sql.SQL("SELECT to_regclass({})").format(sql.Literal(f"{self.schema}.victim"))
        ).fetchone()
        return row is not None and row[0] is not None

    def check(
        self,
        *paths: str,
        dialect: int = common_pb2.DIALECT_POSTGRES,
        variables: dict[str, str] | None = None,
        server_version: str = "",
    ) -> str:
        """Check ``paths`` in the order given over gRPC; the allow verdict's id."""
        request = review_pb2.CheckRequest(
            environment=ENV,
            target=TARGET,
            dialect=dialect,  # type: ignore[arg-type]
            repo="acme/app",
            commit="abc123",
            variables=variables or {},
            server_version=server_version,
            migrations=[
                review_pb2.Migration(path=p, content=(self.root / p).read_bytes()) for p in paths
            ],
        )
        with open_channel(self.server.address, tls=None) as channel:
            reply = review_pb2_grpc.ReviewServiceStub(channel).Check(
                request,
                timeout=60,
                metadata=(("authorization", f"Bearer {self.server.tokens['alice']}"),),
            )
        assert reply.decision == common_pb2.DECISION_ALLOW
        return str(reply.verdict_id)

    def run(
        self,
        *paths: str,
        verdict: str = "",
        token: str = "",
        dsn: str | None = None,
        extra: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        args = [
            str(BIN / "sqlgate-runner"),
            "apply",
            "--server",
            self.server.address,
            "--dsn",
            dsn or self.dsn,
            "--env",
            ENV,
            "--target",
            TARGET,
            "--runner-id",
            RUNNER,
            "--state-dir",
            str(self.root / ".runner"),
            "--history-table",
            f"{self.schema}.schema_history",
            *(["--verdict", verdict] if verdict else ["--token", token]),
            *extra,
            *paths,
        ]
        return subprocess.run(
            args,
            cwd=self.root,
            env={**self.server.env(RUNNER), **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _target_in(server: Server, admin_dsn: str, root: Path) -> Iterator[Target]:
    schema = f"rx_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(admin_dsn, autocommit=True)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("CREATE TABLE {}.victim (id int)").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("INSERT INTO {}.victim VALUES (1)").format(sql.Identifier(schema)))
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, options=f"-c search_path={schema}")
    try:
        yield Target(server, root, admin_dsn, dsn, schema, conn)
    finally:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()


@pytest.fixture
def target(server: Server, pg_dsn: str, tmp_path: Path) -> Iterator[Target]:
    yield from _target_in(server, pg_dsn, tmp_path / "repo")


@pytest.fixture
def lax_database(pg_dsn: str) -> Iterator[str]:
    """A database of its own whose *default* is standard_conforming_strings = off (and
    backslash_quote = on), as ``ALTER DATABASE ... SET`` leaves it for every session."""
    name = f"sqlgate_lax_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        for setting, value in (("standard_conforming_strings", "off"), ("backslash_quote", "on")):
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(name), sql.Identifier(setting), sql.SQL(value)
                )
            )
        try:
            yield psycopg.conninfo.make_conninfo(pg_dsn, dbname=name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- 1. lexing settings -------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        "SET standard_conforming_strings = off;\n",
        "SET LOCAL standard_conforming_strings = off;\n",
        "SET SESSION standard_conforming_strings TO 'off';\n",
        "SELECT set_config('standard_conforming_strings', 'off', false);\n",
        "SELECT set_config('standard_conforming_strings', 'off', true);\n",
        "SELECT 1 FROM (SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false))"
        " AS s;\n",
        "SET backslash_quote = on;\n",
        "SET escape_string_warning TO off;\n",
    ],
)
def test_a_statement_that_changes_lexing_settings_stops_the_run_25(
    target: Target, change: str
) -> None:
    path = target.write("V1__quote.sql", change + QUOTE_TRICK)
    verdict = target.check(path)
    ran = target.run(path, verdict=verdict)
    assert ran.returncode == 25, ran.stdout + ran.stderr
    assert "session settings differ from the reviewed ones" in ran.stderr
    assert target.victim_alive()


@pytest.mark.parametrize(
    ("how", "settings"),
    [
        ("database default", {}),
        ("dsn options", {"options": "-c standard_conforming_strings=off -c backslash_quote=on"}),
    ],
)
def test_settings_off_outside_the_file_are_pinned_and_the_reviewed_select_runs(
    server: Server,
    lax_database: str,
    tmp_path: Path,
    how: str,
    settings: dict[str, str],
) -> None:
    for target in _target_in(server, lax_database, tmp_path / "repo"):
        with psycopg.connect(lax_database) as probe:  # the trap is real: off by default
            assert probe.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        path = target.write("V1__quote.sql", QUOTE_TRICK)
        verdict = target.check(path)
        dsn = psycopg.conninfo.make_conninfo(
            target.dsn,
            options=settings.get("options", "") + f" -c search_path={target.schema}",
        )
        ran = target.run(path, verdict=verdict, dsn=dsn)
        assert ran.returncode == 0, f"{how}: {ran.stdout}{ran.stderr}"
        assert target.victim_alive()


def test_pgoptions_cannot_switch_the_lexer_either(target: Target) -> None:
    path = target.write("V1__quote.sql", QUOTE_TRICK)
    verdict = target.check(path)
    ran = target.run(path, verdict=verdict, env={"PGOPTIONS": "-c standard_conforming_strings=off"})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert target.victim_alive()


# --- 2. template values -------------------------------------------------------------

TEMPLATES = [
    ("SELECT '${a}'; DROP TABLE victim; SELECT '${b}';\n", "a", "b"),
    ("SELECT '{{ .a }}'; DROP TABLE victim; SELECT '{{ .b }}';\n", "a", "b"),
    ("SELECT '{$NS_A}'; DROP TABLE victim; SELECT '{$NS_B}';\n", "NS_A", "NS_B"),
]


@pytest.mark.parametrize(("text", "a", "b"), TEMPLATES)
def test_template_values_are_bound(target: Target, text: str, a: str, b: str) -> None:
    path = target.write("V1__tpl.sql", text)
    values = {a: "x', $q$", b: "$q$, 'y"}
    verdict = target.check(path, variables=values)
    # raw bytes (no values): refused before anything runs
    raw = target.run(path, verdict=verdict)
    assert raw.returncode == 26, raw.stdout + raw.stderr
    assert "has no value" in raw.stderr
    # other values, the DROP standing alone: refused by digest
    other = target.run(path, verdict=verdict, extra=["--var", f"{a}=x", "--var", f"{b}=y"])
    assert other.returncode == 26, other.stdout + other.stderr
    assert "not the reviewed expansion" in other.stderr
    # one value missing: refused
    missing = target.run(path, verdict=verdict, extra=["--var", f"{a}={values[a]}"])
    assert missing.returncode == 26, missing.stdout + missing.stderr
    assert target.victim_alive()
    # the reviewed values: the reviewed expansion (one SELECT) runs, the victim stays
    same = target.run(
        path, verdict=verdict, extra=["--var", f"{a}={values[a]}", "--var", f"{b}={values[b]}"]
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert "(1/1 statements)" in same.stdout
    assert target.victim_alive()


# --- 3. dialect and server version --------------------------------------------------


def test_a_mysql_review_is_not_executed_on_postgres_26(target: Target) -> None:
    path = target.write("V1__drop.sql", "DROP TABLE victim;\n")
    verdict = target.check(path, dialect=common_pb2.DIALECT_MYSQL)
    ran = target.run(path, verdict=verdict)
    assert ran.returncode == 26, ran.stdout + ran.stderr
    assert "reviewed this SQL as 'mysql'" in ran.stderr
    assert target.victim_alive()


def test_a_review_for_another_server_version_is_not_executed_26(target: Target) -> None:
    path = target.write("V1__t.sql", "CREATE TABLE t1 (id int);\n")
    actual = target.conn.info.server_version // 10000
    verdict = target.check(path, server_version=str(actual - 3))
    ran = target.run(path, verdict=verdict)
    assert ran.returncode == 26, ran.stdout + ran.stderr
    assert f"the target runs {actual}" in ran.stderr
    assert target.conn.execute("SELECT to_regclass('t1')").fetchone() == (None,)
    verdict = target.check(path, server_version=str(actual))
    assert target.run(path, verdict=verdict).returncode == 0


# --- 4. order -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("v1", "v2"),
    [
        ("CREATE TABLE a (id int);\n", "DROP TABLE a;\n"),
        ("ALTER TABLE victim RENAME TO victim_old;\n", "CREATE TABLE victim (id int);\n"),
    ],
)
def test_files_reviewed_in_another_order_are_refused_26(target: Target, v1: str, v2: str) -> None:
    first = target.write("V1__one.sql", v1)
    second = target.write("V2__two.sql", v2)
    verdict = target.check(second, first)  # reviewed V2 then V1
    ran = target.run(first, second, verdict=verdict)
    assert ran.returncode == 26, ran.stdout + ran.stderr
    assert "not in the order they were reviewed" in ran.stderr
    assert target.conn.execute("SELECT to_regclass('a')").fetchone() == (None,)
    assert target.victim_alive()
    # reviewed in the order the runner applies: applied
    verdict = target.check(first, second)
    assert target.run(first, second, verdict=verdict).returncode == 0


# --- the statements executed are the reviewed spans --------------------------------


def test_verdict_binds_spans_and_runner_reports_each_statement(target: Target) -> None:
    text = "CREATE TABLE s1 (v text);\nINSERT INTO s1 VALUES ('a;b'), ($$c;d$$);\n"
    path = target.write("V1__spans.sql", text)
    verdict = target.check(path)
    record = target.server.running.app.store.get_verdict(verdict)
    statement = json.loads(base64.b64decode(json.loads(record.envelope)["payload"]))
    [bound] = statement["predicate"]["binding"]["files"]
    data = text.encode()
    assert [data[a:b] for a, b in bound["spans"]] == [
        b"CREATE TABLE s1 (v text)",
        b"INSERT INTO s1 VALUES ('a;b'), ($$c;d$$)",
    ]
    ran = target.run(path, verdict=verdict)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "(2/2 statements)" in ran.stdout
    rows = target.conn.execute(
        sql.SQL("SELECT v FROM {}.s1 ORDER BY v").format(sql.Identifier(target.schema))
    ).fetchall()
    assert rows == [("a;b",), ("c;d",)]


@pytest.fixture
def lax_role(target: Target) -> Iterator[str]:
    """A login role whose *own* default is standard_conforming_strings = off (``ALTER ROLE
    ... SET``), owning the test schema and its victim, so a DROP would succeed as it."""
    role = f"sqlgate_lax_{uuid.uuid4().hex[:8]}"
    ident = sql.Identifier(role)
    conn = target.conn
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
    conn.execute(sql.SQL("ALTER ROLE {} SET standard_conforming_strings = off").format(ident))
    database = sql.Identifier(str(conn.info.dbname))
    conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(database, ident))
    conn.execute(
        sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(target.schema), ident)
    )
    conn.execute(
        sql.SQL("ALTER TABLE {}.victim OWNER TO {}").format(sql.Identifier(target.schema), ident)
    )
    try:
        yield role
    finally:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(target.schema))
        )
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident))


def test_a_role_default_cannot_switch_the_lexer_either(target: Target, lax_role: str) -> None:
    dsn = psycopg.conninfo.make_conninfo(target.dsn, user=lax_role)
    with psycopg.connect(dsn) as probe:  # the trap is real for this role
        assert probe.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
    path = target.write("V1__quote.sql", QUOTE_TRICK)
    verdict = target.check(path)
    ran = target.run(path, verdict=verdict, dsn=dsn)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert target.victim_alive()
