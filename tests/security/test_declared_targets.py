"""Environments and targets are declared (issue 8, item 6): an undeclared environment or
target is INVALID_ARGUMENT (CLI exit 2) before any review, never reviewed under the
``"*"`` rules; a target the server reads through a DSN binds that database's identity
(system identifier + name) into the verdict, and the real ``sqlgate-runner`` refuses
(27) to apply the verdict to any other database, while applying it to that one."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from psycopg import sql
from serving import address_of, principals_config, serving
from sqlgate.config import (
    ConfigError,
    EnvironmentConfig,
    EnvironmentRules,
    TargetConfig,
    config_from_mapping,
)
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent
RUNNER = "deploy-1"
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "alice": {"author": ("*",)},
    RUNNER: {"runner": ("*",)},
}
DECLARED = {
    "production": EnvironmentConfig(targets=("main-db",)),
    "staging": EnvironmentConfig(targets=("scratch-db",)),
}
SQL = b"CREATE TABLE declared_t (id int);\n"


@pytest.fixture(scope="module")
def other_database(pg_dsn: str) -> Iterator[str]:
    """A second real database: what a production verdict must not be applied to."""
    name = f"sqlgate_other_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield psycopg.conninfo.make_conninfo(pg_dsn, dbname=name)
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, pg_dsn: str, other_database: str
) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("declared")
    config, tokens = principals_config(
        tmp,
        f"sqlite:///{tmp / 'sqlgate.db'}",
        ROLES,
        {"*": EnvironmentRules(approvers=1, break_glass_overrides_deny=True)},
    )
    config = dataclasses.replace(
        config,
        environments=DECLARED,
        # production's main-db is the session database; staging's scratch-db the other one
        targets={"main-db": TargetConfig(dsn=pg_dsn)}
        | {"scratch-db": TargetConfig(dsn=other_database)},
    )
    with serving(config) as running:
        yield running, tokens


def _check(
    server: tuple[RunningServer, dict[str, str]], environment: str, target: str
) -> review_pb2.CheckResponse:
    running, tokens = server
    request = review_pb2.CheckRequest(
        environment=environment,
        target=target,
        dialect=common_pb2.DIALECT_POSTGRES,
        migrations=[review_pb2.Migration(path="db/V1__declared.sql", content=SQL)],
    )
    with open_channel(address_of(running), tls=None) as channel:
        return review_pb2_grpc.ReviewServiceStub(channel).Check(
            request, timeout=60, metadata=(("authorization", f"Bearer {tokens['alice']}"),)
        )


@pytest.mark.parametrize(
    ("environment", "target", "says"),
    [
        ("production-eu", "main-db", "environment 'production-eu' is not declared"),
        ("Production", "main-db", "environment 'Production' is not declared"),
        ("*", "main-db", "environment '*' is not declared"),
        ("production", "scratch-db", "target 'scratch-db' is not declared in environment"),
        ("production", "main-db-2", "target 'main-db-2' is not declared in environment"),
    ],
)
def test_undeclared_environment_or_target_is_invalid_argument(
    server: tuple[RunningServer, dict[str, str]], environment: str, target: str, says: str
) -> None:
    running, _ = server
    verdicts_before = len([e for e in running.app.store.iter_audit() if e.kind == "check"])
    with pytest.raises(grpc.RpcError) as refused:
        _check(server, environment, target)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert says in str(refused.value.details())
    assert len([e for e in running.app.store.iter_audit() if e.kind == "check"]) == verdicts_before


def test_cli_exit_2_for_an_undeclared_environment(
    server: tuple[RunningServer, dict[str, str]], tmp_path: Path
) -> None:
    running, tokens = server
    (tmp_path / "V1__declared.sql").write_bytes(SQL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    out = subprocess.run(
        [
            str(BIN / "sqlgate"),
            "check",
            "--server",
            address_of(running),
            "--env",
            "production-eu",
            "--target",
            "main-db",
            "V1__declared.sql",
        ],
        cwd=tmp_path,
        env={**env, "SQLGATE_TOKEN": tokens["alice"]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "not declared" in out.stderr


def test_a_server_that_declares_nothing_refuses_every_check(tmp_path: Path) -> None:
    config, tokens = principals_config(
        tmp_path, f"sqlite:///{tmp_path / 's.db'}", ROLES, {"*": EnvironmentRules()}
    )
    with (
        serving(dataclasses.replace(config, environments={})) as running,
        pytest.raises(grpc.RpcError) as refused,
    ):
        _check((running, tokens), "production", "main-db")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "declares no environments" in str(refused.value.details())


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"environments": {"*": {"targets": ["db"]}}}, "not '*'"),
        ({"environments": {"production": {"targets": []}}}, "at least one target"),
        (
            {
                "environments": {"production": {"targets": ["db"]}, "staging": {"targets": ["db"]}},
                "targets": {"db": {"dsn": "host=x"}},
            },
            "exactly one environment",
        ),
        (
            {
                "environments": {"production": {"targets": ["db"]}},
                "targets": {"elsewhere": {"dsn": "host=x"}},
            },
            "exactly one environment",
        ),
    ],
)
def test_bad_declarations_are_config_errors(raw: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        config_from_mapping(raw)


def _binding(reply: review_pb2.CheckResponse) -> dict[str, Any]:
    statement = json.loads(base64.b64decode(json.loads(reply.verdict)["payload"]))
    return dict(statement["predicate"]["binding"])


def _run(
    server: tuple[RunningServer, dict[str, str]],
    root: Path,
    verdict: str,
    *,
    environment: str,
    target: str,
    dsn: str,
    schema: str,
) -> subprocess.CompletedProcess[str]:
    running, tokens = server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQLGATE_", "PG"))}
    return subprocess.run(
        [
            str(BIN / "sqlgate-runner"),
            "apply",
            "--server",
            address_of(running),
            "--dsn",
            psycopg.conninfo.make_conninfo(dsn, options=f"-c search_path={schema}"),
            "--env",
            environment,
            "--target",
            target,
            "--runner-id",
            RUNNER,
            "--state-dir",
            str(root / ".runner"),
            "--history-table",
            f"{schema}.schema_history",
            "--verdict",
            verdict,
            "db/V1__declared.sql",
        ],
        cwd=root,
        env={**env, "SQLGATE_TOKEN": tokens[RUNNER]},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def schemas(pg_dsn: str, other_database: str) -> Iterator[str]:
    """The same fresh schema name in both databases (dropped after)."""
    schema = f"dt_{uuid.uuid4().hex[:10]}"
    conns = [psycopg.connect(d, autocommit=True) for d in (pg_dsn, other_database)]
    for c in conns:
        c.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        for c in conns:
            c.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            c.close()


def _has_table(dsn: str, schema: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT to_regclass(%s)", (f"{schema}.declared_t",)).fetchone()
    return row is not None and row[0] is not None


def test_target_identity_is_bound_and_proven_by_the_runner(
    server: tuple[RunningServer, dict[str, str]],
    pg_dsn: str,
    other_database: str,
    schemas: str,
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    (root / "db").mkdir(parents=True)
    (root / "db" / "V1__declared.sql").write_bytes(SQL)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT system_identifier::text, current_database() FROM pg_control_system()"
        ).fetchone()
    assert row is not None
    prod = _check(server, "production", "main-db")
    assert prod.decision == common_pb2.DECISION_ALLOW
    assert _binding(prod)["target_identity"] == {"system_identifier": row[0], "database": row[1]}
    # the production verdict presented with a DSN of another database: refused, nothing ran
    elsewhere = _run(
        server,
        root,
        prod.verdict_id,
        environment="production",
        target="main-db",
        dsn=other_database,
        schema=schemas,
    )
    assert elsewhere.returncode == 27, elsewhere.stdout + elsewhere.stderr
    assert "refusing to apply to another database" in elsewhere.stderr
    assert not _has_table(other_database, schemas)
    # ... and vice versa: the staging (scratch-db) verdict is not applied to production
    staging = _check(server, "staging", "scratch-db")
    wrong = _run(
        server,
        root,
        staging.verdict_id,
        environment="staging",
        target="scratch-db",
        dsn=pg_dsn,
        schema=schemas,
    )
    assert wrong.returncode == 27, wrong.stdout + wrong.stderr
    assert not _has_table(pg_dsn, schemas)
    # the database the verdict names: applied
    right = _run(
        server,
        root,
        prod.verdict_id,
        environment="production",
        target="main-db",
        dsn=pg_dsn,
        schema=schemas,
    )
    assert right.returncode == 0, right.stdout + right.stderr
    assert _has_table(pg_dsn, schemas)


@pytest.mark.parametrize(
    ("environment", "target", "code"),
    [("production-eu", "main-db", 2), ("production", "other-db", 2), ("production", "main-db", 0)],
)
def test_local_check_with_a_declaring_config_enforces_it(
    tmp_path: Path, environment: str, target: str, code: int
) -> None:
    (tmp_path / "sqlgate.yaml").write_text(
        "policies: {isolation: thread}\nenvironments:\n  production: {targets: [main-db]}\n"
    )
    (tmp_path / "V1__declared.sql").write_bytes(SQL)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    out = subprocess.run(
        [
            str(BIN / "sqlgate"),
            "check",
            "--local",
            "--config",
            "sqlgate.yaml",
            "--env",
            environment,
            "--target",
            target,
            "V1__declared.sql",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == code, out.stdout + out.stderr
    if code:
        assert "not declared" in out.stderr
