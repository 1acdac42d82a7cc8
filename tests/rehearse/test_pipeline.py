"""The promotion pipeline on a real server, runner and PostgreSQL, as far as it exists:
check in staging -> rehearse that verdict (locks, rewrite, reconciliation, rollback
test measured) -> apply in staging -> check in production needs a human approval
(``always``) although the policy allows -> no token before it -> approve -> token ->
apply in production. CLIs run as subprocesses from the repository root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from rehearse_db import Target
from serving import address_of, principals_config, serving
from sqlgate.config import EnvironmentRules
from sqlgate.promotion import ALWAYS_RULE
from sqlgate.rpc.server import RunningServer

pytestmark = pytest.mark.postgres
BIN = Path(sys.executable).parent
UP = (
    "-- sqlgate:meta\n"
    "-- reconcile:\n"
    '--   - {name: orders-count, sql: "SELECT count(*) FROM orders", expect: unchanged}\n'
    "SET lock_timeout = '2s';\n"
    "ALTER TABLE orders ADD COLUMN status text;\n"
    "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;\n"
)
DOWN = "ALTER TABLE orders ALTER COLUMN qty TYPE integer;\nALTER TABLE orders DROP COLUMN status;\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    config, tokens = principals_config(
        tmp_path / "srv",
        f"sqlite:///{tmp_path / 'srv.db'}",
        {
            "alice": {"author": ("*",)},
            "bob": {"approver": ("staging", "production")},
            "rita": {"runner": ("*",)},
        },
        {
            "staging": EnvironmentRules(approvers=1),
            "production": EnvironmentRules(approvers=1, always=True),
        },
    )
    with serving(config) as running:
        yield running, tokens


@pytest.fixture
def production(target: Target) -> Iterator[str]:
    name = f"{target.name}_prod"
    with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield psycopg.conninfo.make_conninfo(target.admin_dsn, dbname=name)
    finally:
        with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _run(cwd: Path, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SQLGATE_TOKEN": token, "SQLGATE_RUNNER_ID": "rita"}
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_staging_rehearsal_then_production_needs_approval(
    target: Target, production: str, server: tuple[RunningServer, dict[str, str]]
) -> None:
    running, tokens = server
    address = address_of(running)
    schema = (
        "CREATE TABLE orders (id bigserial PRIMARY KEY, qty integer NOT NULL);"
        "INSERT INTO orders (qty) SELECT g FROM generate_series(1, 200) g;"
    )
    target.sql(schema)
    with psycopg.connect(production, autocommit=True) as conn:
        conn.execute(schema.encode())
    target.write("db/V1__status.sql", UP)
    target.write("db/U1__status.sql", DOWN)
    root = target.dir

    def apply(dsn: str, env: str, verdict_id: str) -> subprocess.CompletedProcess[str]:
        return _run(
            root,
            tokens["rita"],
            "sqlgate-runner",
            "apply",
            "--server",
            address,
            "--dsn",
            dsn,
            "--env",
            env,
            "--target",
            "main-db",
            "--verdict",
            verdict_id,
            "--state-dir",
            str(root / ".runner"),
            "db/V1__status.sql",
        )

    def check(env: str) -> tuple[int, dict[str, object]]:
        out = _run(
            root,
            tokens["alice"],
            "sqlgate",
            "check",
            "--server",
            address,
            "--env",
            env,
            "--target",
            "main-db",
            "--format",
            "json",
            "db/V1__status.sql",
        )
        assert out.returncode in (0, 1, 3), out.stderr
        return out.returncode, json.loads(out.stdout)

    code, staging = check("staging")
    assert code in (0, 3), staging
    verdict = str(staging["verdict_id"])
    if code == 3:  # the policy asks for approval (column type change) in staging too
        out = _run(
            root,
            tokens["bob"],
            "sqlgate",
            "approve",
            verdict,
            "--reason",
            "ok",
            "--server",
            address,
            "--format",
            "json",
        )
        assert out.returncode == 0, out.stdout + out.stderr
        verdict = str(json.loads(out.stdout)["verdict_id"])

    # rehearse exactly that verdict against the staging target
    report = root / "rehearsal.json"
    out = _run(
        root,
        tokens["rita"],
        "sqlgate-runner",
        "rehearse",
        "--dsn",
        target.dsn,
        "--scratch-dsn",
        target.admin_dsn,
        "--verdict",
        verdict,
        "--server",
        address,
        "--state-dir",
        str(root / ".runner"),
        "--generate-rows",
        "500",
        "--report",
        str(report),
        "db/V1__status.sql",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(report.read_text())
    assert doc["verdict"]["verdict_id"] == verdict
    widen = next(s for s in doc["statements"] if "TYPE bigint" in s["sql"])
    assert "orders" in {w["relation"] for w in widen["rewrites"]}
    add = next(s for s in doc["statements"] if "ADD COLUMN" in s["sql"])
    assert [(lk["relation"], lk["mode"]) for lk in add["locks"]] == [("orders", "ACCESS EXCLUSIVE")]
    assert doc["rollback"]["status"] == "passed"
    assert all(o["passed"] for o in doc["reconciliation"])

    # apply in staging
    out = apply(target.dsn, "staging", verdict)
    assert out.returncode == 0, out.stdout + out.stderr
    assert target.rows(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass"
        " AND attname = 'status'"
    ) == [(1,)]

    # production: the same files need a human approval before any token
    code, prod = check("production")
    assert code == 3
    findings = prod["findings"]
    assert isinstance(findings, list)
    assert any(f["rule"] == ALWAYS_RULE and "needs: approval" in f["message"] for f in findings)
    impact = prod["impact"]
    assert isinstance(impact, list) and impact[0]["lock"] == "ACCESS EXCLUSIVE"
    out = apply(production, "production", str(prod["verdict_id"]))
    assert out.returncode == 14, out.stdout + out.stderr
    assert "verdict_not_allowed" in out.stderr and "'needs_approval'" in out.stderr
    with psycopg.connect(production) as conn:
        assert conn.execute("SELECT to_regclass('sqlgate.schema_history')").fetchone() == (None,)

    out = _run(
        root,
        tokens["bob"],
        "sqlgate",
        "approve",
        str(prod["verdict_id"]),
        "--reason",
        "staging rehearsal and run looked fine",
        "--server",
        address,
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    approved = json.loads(out.stdout)
    assert approved["decision"] == "allow"
    out = apply(production, "production", str(approved["verdict_id"]))
    assert out.returncode == 0, out.stdout + out.stderr
    with psycopg.connect(production) as conn:
        row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'orders'::regclass AND attname = 'qty'"
        ).fetchone()
        assert row == ("bigint",)
