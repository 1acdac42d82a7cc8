"""deploy/compose.yaml, run as written — each service's command line, environment and
mounted files as local processes: the keys step (twice: a restart keeps the keys), the
policy-bundle step, OPA 0.61 (../shared/tools/opa) on that bundle, and sqlgate on the
real PostgreSQL using that OPA. It reaches SERVING, answers a Check, and — OPA killed —
denies with policy-engine-error, which proves every decision came from the sidecar.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from container import Rootfs, argv, environment, run_once, start, stop
from deploy_common import ALLOW, DEPLOY, scrape, with_test_principals
from opa_tools import opa_bin
from serving import free_port, pg_store_url, wait_serving
from sqlgate_client.check import MigrationInput, check_remote

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
PASSWORD = "compose-" + "pw-9d2f"


def _entry(service: dict[str, Any], image_entry: list[str]) -> list[str]:
    return list(service.get("entrypoint") or image_entry)


def _volumes(service: dict[str, Any], rootfs: Rootfs, named: dict[str, Path]) -> dict[str, Path]:
    """Mount each volume; bind-mounted files are returned (container path -> source)."""
    files: dict[str, Path] = {}
    for spec in service.get("volumes", []):
        source, target = spec.split(":")[:2]
        if source.startswith("."):
            files[target] = (DEPLOY / source).resolve()
        else:
            rootfs.mount(target, named.setdefault(source, rootfs.base / f"vol-{source}"))
    return files


def test_compose_stack_runs_as_written(pg_dsn: str, tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"keys", "policy-bundle", "opa", "postgres", "sqlgate"}
    sqlgate = services["sqlgate"]
    # The server depends on the one-shot steps and on the store and OPA being up.
    assert sqlgate["depends_on"]["keys"]["condition"] == "service_completed_successfully"
    assert sqlgate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["opa"]["depends_on"]["policy-bundle"]["condition"] == (
        "service_completed_successfully"
    )
    assert sqlgate["read_only"] is True and "/tmp" in sqlgate["tmpfs"]

    port, metrics, opa_port = free_port(), free_port(), free_port()
    rootfs = Rootfs(tmp_path)
    rootfs.hosts = {
        "0.0.0.0:50051": f"127.0.0.1:{port}",
        "0.0.0.0:9464": f"127.0.0.1:{metrics}",
        "0.0.0.0:8181": f"127.0.0.1:{opa_port}",
        "http://opa:8181": f"http://127.0.0.1:{opa_port}",
    }
    named: dict[str, Path] = {}
    procs = []
    try:
        # keys, twice (a restart must not fail on the existing keys)
        _volumes(services["keys"], rootfs, named)
        cmd = argv(_entry(services["keys"], ["sqlgate"]), services["keys"]["command"], rootfs)
        for _ in range(2):
            done = run_once(cmd, environment({}, rootfs), tmp_path)
            assert done.returncode == 0, done.stderr
        keyset = named["sqlgate-keys"] / "keyset.json"
        assert keyset.is_file()
        first = keyset.read_bytes()

        # policy-bundle
        _volumes(services["policy-bundle"], rootfs, named)
        cmd = argv(["sqlgate"], services["policy-bundle"]["command"], rootfs)
        done = run_once(cmd, environment({}, rootfs), tmp_path)
        assert done.returncode == 0, done.stderr
        digest = done.stdout.strip()
        assert digest.startswith("sha256:") and (named["opa-bundles"] / "sqlgate.tar.gz").is_file()

        # opa, with its mounted config file
        for target, source in _volumes(services["opa"], rootfs, named).items():
            rootfs.install(target, source.read_text())
        opa_cmd = argv(["opa"], services["opa"]["command"], rootfs)
        assert opa_cmd[0] == str(opa_bin())
        opa = start(opa_cmd, environment({}, rootfs), tmp_path, tmp_path / "opa.log")
        procs.append(opa)

        # sqlgate: its config file (principals made fresh), env, the real PostgreSQL
        files = _volumes(sqlgate, rootfs, named)
        config_text, tokens = with_test_principals(files["/etc/sqlgate/config.yaml"].read_text())
        rootfs.install("/etc/sqlgate/config.yaml", config_text)
        env = dict(sqlgate["environment"])
        assert env["SQLGATE_STORE"].startswith("postgresql://sqlgate:${POSTGRES_PASSWORD")
        assert "@postgres:5432/sqlgate" in env["SQLGATE_STORE"]
        # The test's database; with a password, as compose passes one (trust auth here
        # ignores it): it must never reach the log.
        env["SQLGATE_STORE"] = pg_store_url(pg_dsn, "compose").replace(
            "postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@"
        )
        assert PASSWORD in env["SQLGATE_STORE"]
        assert [p.split(":")[-1] for p in sqlgate["ports"]] == ["50051", "9464"]
        cmd = argv(["sqlgate"], sqlgate["command"], rootfs)
        server = start(cmd, environment(env, rootfs), tmp_path, tmp_path / "sqlgate.log")
        procs.append(server)
        address = f"127.0.0.1:{port}"
        wait_serving(address, server)
        assert keyset.read_bytes() == first

        result = check_remote(
            address,
            migrations=[MigrationInput("V1__notes.sql", ALLOW)],
            environment="staging",
            target="default",
            dialect="postgres",
            token=tokens["ci"],
        )
        assert result["decision"] == "allow", result
        assert result["policy_digest"] == digest  # OPA's bundle revision = the image's tree
        assert "sqlgate_decisions_total" in scrape(metrics)

        stop(opa)  # no sidecar: fail closed
        time.sleep(0.2)
        result = check_remote(
            address,
            migrations=[MigrationInput("V1__notes.sql", ALLOW)],
            environment="staging",
            target="default",
            dialect="postgres",
            token=tokens["ci"],
        )
        assert result["decision"] == "deny"
        assert [f["rule"] for f in result["findings"]] == ["policy-engine-error"]
    finally:
        for proc in reversed(procs):
            stop(proc)
    log = (tmp_path / "sqlgate.log").read_text()
    assert PASSWORD not in log
    for token in tokens.values():
        assert token not in log
    rpc = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [r["code"] for r in rpc if r.get("msg") == "rpc"] == ["OK", "OK"]
