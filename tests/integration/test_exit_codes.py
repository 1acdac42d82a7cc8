"""Exit codes CI can trust, for every CLI, against a real server (README "Exit codes").

0 allow, 1 deny/refused/verification failed, 3 needs approval, 2 usage or input, 4
authentication or permission, 5 server unavailable or internal, 6 local setup (config,
policies, keys, store). Each failure mode is provoked for real: a wrong token on a
real server, a port nobody listens on, an empty policy tree, a tampered verdict.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from serving import SQLGATE, address_of, principals_config, serving
from sqlgate.cli.main import exit_code_for, main
from sqlgate.config import EnvironmentRules, ServerConfig
from sqlgate.errors import ListenError
from sqlgate.rpc.server import RunningServer, create_server
from sqlgate.trust.keys import Keyset
from sqlgate_client.channel import open_channel

ALLOW = b"CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"
DENY = b"CREATE INDEX idx_customers_email ON customers (email);\n"
APPROVAL = b"DROP TABLE customers;\n"


@pytest.fixture(scope="module")
def gate(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("exit-codes")
    config, tokens = principals_config(
        tmp,
        f"sqlite:///{tmp / 'store.db'}",
        {
            "dev": {"author": ("*",)},
            "lead": {"approver": ("*",), "security": ("*",), "operator": ("*",)},
            "deployer": {"runner": ("*",)},
        },
        {"*": EnvironmentRules(approvers=1)},
    )
    with serving(config) as running:
        yield running, tokens


@pytest.fixture
def migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SQLGATE_SERVER", raising=False)
    for name, body in (("allow", ALLOW), ("deny", DENY), ("approval", APPROVAL)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "V1__x.sql").write_bytes(body)
    return tmp_path


def _dead_address() -> str:
    with socket.socket() as s:  # bound, never listening: connections are refused
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_local_decisions_and_default_environment(
    migrations: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --env: the documented default (production, the strictest levels).
    assert run(capsys, "check", "--local", "allow")[0] == 0
    assert run(capsys, "check", "--local", "deny")[0] == 1
    assert run(capsys, "check", "--local", "approval")[0] == 3
    code, out, _ = run(capsys, "check", "--local", "--format", "json", "approval")
    assert code == 3 and json.loads(out)["decision"] == "needs_approval"


def test_check_failures_have_their_own_codes(
    migrations: Path,
    gate: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = gate
    addr = address_of(running)
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["dev"])
    assert run(capsys, "check", "--server", addr, "--env", "staging", "allow")[0] == 0
    assert run(capsys, "check", "--server", addr, "--env", "staging", "deny")[0] == 1
    # A server check names its environment: no default there.
    code, _, err = run(capsys, "check", "--server", addr, "allow")
    assert code == 2 and "--env is required" in err
    # Unknown token, no token: authentication, never "deny".
    monkeypatch.setenv("SQLGATE_TOKEN", "sqg_" + "0" * 40)
    code, _, err = run(capsys, "check", "--server", addr, "--env", "staging", "allow")
    assert code == 4, err
    monkeypatch.delenv("SQLGATE_TOKEN")
    assert run(capsys, "check", "--server", addr, "--env", "staging", "deny")[0] == 4
    # Nobody listening: unavailable.
    code, _, err = run(
        capsys, "check", "--server", _dead_address(), "--timeout", "3", "--env", "x", "allow"
    )
    assert code == 5 and "cannot reach" in err
    # Local setup: an empty policy tree, a config file that is not there.
    empty = migrations / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "check", "--local", "--policies", str(empty), "deny")
    assert code == 6 and "no .rego policy files" in err
    code, _, err = run(capsys, "check", "--local", "--config", "nope.yaml", "deny")
    assert code == 6 and "cannot read config" in err
    # Input: a path that does not exist.
    assert run(capsys, "check", "--local", "missing")[0] == 2


def _verdict(capsys: pytest.CaptureFixture[str], addr: str, path: str) -> dict[str, object]:
    code, out, err = run(
        capsys, "check", "--server", addr, "--env", "staging", "--format", "json", path
    )
    assert code in (0, 1, 3), err
    return dict(json.loads(out))


def test_approve_token_and_verify(
    migrations: Path,
    gate: tuple[RunningServer, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running, tokens = gate
    addr = address_of(running)
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["dev"])
    result = _verdict(capsys, addr, "approval")
    assert result["decision"] == "needs_approval"
    vid = str(result["verdict_id"])
    (migrations / "check.json").write_text(json.dumps(result))
    (migrations / "keys.json").write_text(running.app.keyset.public_keyset().to_json())

    # The author may not approve: permission (4), not deny.
    code, _, err = run(capsys, "approve", vid, "--server", addr, "--reason", "r")
    assert code == 4, err
    # A token for a verdict that needs approval: refused by the gate (1).
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["deployer"])
    code, _, err = run(
        capsys, "token", vid, "--server", addr, "--env", "staging", "--target", "default"
    )
    assert code == 1 and "refused" in err
    # Unknown verdict id: input (2).
    monkeypatch.setenv("SQLGATE_TOKEN", tokens["lead"])
    assert run(capsys, "approve", "vrd_nope", "--server", addr, "--reason", "r")[0] == 2
    code, _, err = run(capsys, "approve", vid, "--server", addr, "--reason", "r", "--format", "xml")
    assert code == 2 and "unknown format" in err
    code, out, err = run(
        capsys,
        "approve",
        vid,
        "--server",
        addr,
        "--reason",
        "reviewed",
        "--format",
        "json",
        "--break-glass",
    )
    approved = json.loads(out)
    assert code == {"allow": 0, "needs_approval": 3, "deny": 1}[approved["decision"]], err
    assert approved["verdict_id"].startswith("vrd_") and approved["verdict_id"] != vid
    # Unreachable server for approve and token: 5.
    dead = _dead_address()
    assert run(capsys, "approve", vid, "--server", dead, "--reason", "r", "--timeout", "3")[0] == 5
    code, _, _ = run(
        capsys,
        "token",
        vid,
        "--server",
        dead,
        "--env",
        "staging",
        "--target",
        "default",
        "--timeout",
        "3",
    )
    assert code == 5
    monkeypatch.setenv("SQLGATE_TOKEN", "sqg_" + "1" * 40)
    code, _, _ = run(
        capsys, "token", vid, "--server", addr, "--env", "staging", "--target", "default"
    )
    assert code == 4

    # verdict verify takes check's JSON output and a directory of files.
    verify = ["verdict", "verify", "check.json", "--keys", "keys.json"]
    code, out, err = run(capsys, *verify, "--files", "approval", "--json")
    assert code == 0, err
    assert json.loads(out)["verdict_id"] == vid and json.loads(out)["files_checked"]
    (migrations / "approval" / "V2__more.sql").write_bytes(ALLOW)  # a file not reviewed
    assert run(capsys, *verify, "--files", "approval")[0] == 1
    (migrations / "approval" / "V2__more.sql").unlink()
    (migrations / "approval" / "V1__x.sql").write_bytes(APPROVAL.replace(b"customers", b"orders"))
    assert run(capsys, *verify, "--files", "approval")[0] == 1
    # A local (unsigned) result and a non-JSON file are input errors.
    _, local, _ = run(capsys, "check", "--local", "--format", "json", "allow")
    (migrations / "local.json").write_text(local)
    code, _, err = run(capsys, "verdict", "verify", "local.json", "--keys", "keys.json")
    assert code == 2 and "unsigned" in err
    (migrations / "junk.json").write_text("not json")
    assert run(capsys, "verdict", "verify", "junk.json", "--keys", "keys.json")[0] == 2
    assert run(capsys, "verdict", "verify", "check.json", "--keys", "missing.json")[0] == 2


def test_audit_catalog_policy_codes(
    migrations: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SQLGATE_STORE", raising=False)
    code, _, err = run(capsys, "audit", "verify")
    assert code == 6 and "no store" in err
    assert run(capsys, "audit", "verify", "--store", "sqlite:///nope.db")[0] == 6
    assert run(capsys, "catalog", "--dsn", "postgresql://nobody@127.0.0.1:1/x")[0] == 2
    assert run(capsys, "policy", "test", "no-such-dir")[0] == 2
    broken = migrations / "broken"
    broken.mkdir()
    (broken / "p.rego").write_text("package demo\n\nx := \n")
    code, _, err = run(capsys, "policy", "test", str(broken))
    assert code == 1 and err


def test_unforeseen_errors_are_not_a_deny() -> None:
    assert exit_code_for(RuntimeError("boom")) == 5
    assert exit_code_for(ListenError("in use")) == 6  # serve maps it to 2 itself


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    Keyset.generate(keys)
    config = ServerConfig(listen="127.0.0.1:0", store=f"sqlite:///{tmp_path / 'a.db'}", keys=keys)
    with serving(config) as first:
        taken = f"127.0.0.1:{first.port}"
        # In process: a second gRPC server may not share the port (no SO_REUSEPORT).
        second = dataclasses.replace(config, listen=taken, store=f"sqlite:///{tmp_path / 'b.db'}")
        with pytest.raises(ListenError, match="another server"):
            create_server(second)
        # As users run it: `sqlgate serve` on the taken port exits 2 with the reason.
        (tmp_path / "sqlgate.yaml").write_text(
            f"listen: {taken}\nstore: sqlite:///{tmp_path / 'c.db'}\nkeys: {keys}\n"
            "policies: {isolation: thread}\n"
        )
        proc = subprocess.run(
            [*SQLGATE, "serve", "--config", "sqlgate.yaml"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        assert f"cannot listen on {taken}" in proc.stderr
        # The first server still answers alone.
        with open_channel(taken, tls=None) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
