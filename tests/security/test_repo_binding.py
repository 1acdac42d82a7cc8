"""Repository binding and per-repository overrides, on a real server (docs/config.md).

The policy's input.repo is the authenticated principal's bound repository: a
repository's relaxed levels apply only to checks by the CI bound to it, a principal
claiming another's repository is refused (PERMISSION_DENIED, CLI exit 4), and the org's
gates hold whatever a repository's overrides say.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from serving import address_of, principals_config, serving
from sqlgate.cli.main import main
from sqlgate.config import EnvironmentRules, PolicyConfig, ServerConfig, default_policies_dir
from sqlgate.rpc.server import RunningServer
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

TYPE_CHANGE = b"ALTER TABLE orders ALTER COLUMN amount TYPE numeric(20,2);\n"  # org: approval
RENAME = b"ALTER TABLE orders RENAME COLUMN amount TO total;\n"  # org: warn
DROP = b"DROP TABLE orders;\n"  # org gate (destructive)
GRANT = b"grant select on orders to reporting;\n"  # org gate (privileged)
LEXING = b"SET standard_conforming_strings = off;\n"  # org gate (lexing)

# acme/payments relaxes an ordinary rule and tries to lower and disable every kind of gate.
OVERRIDES = {
    "repositories": {
        "acme/payments": {
            "levels": {
                "column-type-change": "warn",
                "drop-table": "warn",
                "privileged-grant": "warn",
                "lexing-setting-change": "warn",
            },
            "disabled": ["drop-table", "privileged-grant"],
            "environments": {
                "staging": {
                    "levels": {"rename-column": "deny"},
                    "disabled": ["lexing-setting-change", "privileged-grant", "drop-table"],
                }
            },
        }
    }
}

ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "ci-pay": {"ci": ("*",)},
    "ci-web": {"ci": ("*",)},
    "ci-both": {"ci": ("*",)},
    "alice": {"author": ("*",)},  # bound to nothing
}
BOUND = {
    "ci-pay": ("acme/payments",),
    "ci-web": ("acme/web",),
    "ci-both": ("acme/payments", "acme/web"),
}


def _config(tmp: Path, unbound: str) -> tuple[ServerConfig, dict[str, str]]:
    policies = tmp / "policies"
    shutil.copytree(default_policies_dir(), policies)
    (policies / "data" / "repos.yaml").write_text(yaml.safe_dump(OVERRIDES))
    config, tokens = principals_config(
        tmp,
        f"sqlite:///{tmp / 'store.db'}",
        ROLES,
        {"*": EnvironmentRules(approvers=1)},
    )
    principals = tuple(
        dataclasses.replace(p, repositories=BOUND.get(p.id, ())) for p in config.principals
    )
    return (
        dataclasses.replace(
            config,
            principals=principals,
            policies=PolicyConfig(dir=policies),
            unbound_repository=unbound,
        ),
        tokens,
    )


@dataclasses.dataclass
class Gate:
    running: RunningServer
    tokens: dict[str, str]
    channel: grpc.Channel

    def check(
        self, who: str, content: bytes, *, repo: str = "", environment: str = "production"
    ) -> review_pb2.CheckResponse:
        request = review_pb2.CheckRequest(
            environment=environment,
            target="main-db",
            dialect=common_pb2.DIALECT_POSTGRES,
            repo=repo,
            commit="abc123",
            migrations=[review_pb2.Migration(path="db/V1__x.sql", content=content)],
        )
        stub = review_pb2_grpc.ReviewServiceStub(self.channel)
        meta = (("authorization", f"Bearer {self.tokens[who]}"),)
        return stub.Check(request, timeout=60, metadata=meta)

    def refused(self, who: str, content: bytes, **kw: str) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as info:
            self.check(who, content, **kw)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED, info.value.details()
        return info.value


def _gate(tmp: Path, unbound: str) -> Iterator[Gate]:
    config, tokens = _config(tmp, unbound)
    with serving(config) as running, open_channel(address_of(running), tls=None) as channel:
        yield Gate(running, tokens, channel)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    yield from _gate(tmp_path_factory.mktemp("repo-binding"), "org-policy")


@pytest.fixture(scope="module")
def strict_gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gate]:
    yield from _gate(tmp_path_factory.mktemp("repo-binding-refuse"), "refuse")


def _levels(response: review_pb2.CheckResponse) -> dict[str, str]:
    return {f.rule: common_pb2.Level.Name(f.level) for f in response.findings}


def _verdict_repo(gate: Gate, response: review_pb2.CheckResponse) -> str:
    return gate.running.app.store.get_verdict(response.verdict_id).repo


def test_override_applies_to_the_bound_ci_only(gate: Gate) -> None:
    org = gate.check("ci-web", TYPE_CHANGE, repo="acme/web")
    assert org.decision == common_pb2.DECISION_NEEDS_APPROVAL
    relaxed = gate.check("ci-pay", TYPE_CHANGE, repo="acme/payments")
    assert relaxed.decision == common_pb2.DECISION_ALLOW
    assert "column-type-change" in _levels(relaxed)
    # Naming no repository: the single bound one, recorded in the verdict.
    implicit = gate.check("ci-pay", TYPE_CHANGE)
    assert implicit.decision == common_pb2.DECISION_ALLOW
    assert _verdict_repo(gate, implicit) == "acme/payments"
    # Bound to both: the one it names.
    assert gate.check("ci-both", TYPE_CHANGE, repo="acme/payments").decision == (
        common_pb2.DECISION_ALLOW
    )
    assert gate.check("ci-both", TYPE_CHANGE, repo="acme/web").decision == (
        common_pb2.DECISION_NEEDS_APPROVAL
    )


def test_repository_environment_override(gate: Gate) -> None:
    assert gate.check("ci-pay", RENAME, environment="production").decision == (
        common_pb2.DECISION_ALLOW
    )
    assert gate.check("ci-pay", RENAME, environment="staging").decision == (
        common_pb2.DECISION_DENY
    )
    assert gate.check("ci-web", RENAME, environment="staging").decision == (
        common_pb2.DECISION_ALLOW
    )


@pytest.mark.parametrize(
    "claim", ["acme/payments", "ACME/payments", "acme/payments ", "acme/payments/", "acme/pay"]
)
def test_claiming_another_repository_is_refused(gate: Gate, claim: str) -> None:
    error = gate.refused("ci-web", TYPE_CHANGE, repo=claim)
    assert "may not check repository" in (error.details() or "")
    events = [e for e in gate.running.app.store.iter_audit() if e.kind == "auth_failed"]
    assert any(e.details.get("repo") == claim for e in events)


def test_ambiguous_binding_is_refused(gate: Gate) -> None:
    error = gate.refused("ci-both", TYPE_CHANGE)
    assert "several repositories" in (error.details() or "")


def test_unbound_principal_gets_the_org_policy(gate: Gate) -> None:
    # Its claim is recorded, unverified, but selects no override.
    response = gate.check("alice", TYPE_CHANGE, repo="acme/payments")
    assert response.decision == common_pb2.DECISION_NEEDS_APPROVAL
    assert _verdict_repo(gate, response) == "acme/payments"


def test_unbound_principal_refused_when_configured(strict_gate: Gate) -> None:
    strict_gate.refused("alice", TYPE_CHANGE, repo="acme/payments")
    strict_gate.refused("alice", TYPE_CHANGE)
    assert strict_gate.check("ci-pay", TYPE_CHANGE).decision == common_pb2.DECISION_ALLOW


@pytest.mark.parametrize("environment", ["production", "staging"])
@pytest.mark.parametrize(
    ("content", "rule", "decision"),
    [
        (DROP, "drop-table", common_pb2.DECISION_NEEDS_APPROVAL),
        (GRANT, "privileged-grant", common_pb2.DECISION_NEEDS_APPROVAL),
        (LEXING, "lexing-setting-change", common_pb2.DECISION_DENY),
    ],
)
def test_org_gates_hold_under_overrides(
    gate: Gate, environment: str, content: bytes, rule: str, decision: int
) -> None:
    bound = gate.check("ci-pay", content, environment=environment)
    org = gate.check("ci-web", content, environment=environment)
    assert bound.decision == org.decision == decision
    assert _levels(bound)[rule] == _levels(org)[rule]


def test_cli_exit_code_for_a_foreign_repository(
    gate: Gate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "V1__x.sql").write_bytes(TYPE_CHANGE)
    monkeypatch.setenv("SQLGATE_TOKEN", gate.tokens["ci-web"])
    addr = address_of(gate.running)
    argv = ["check", "--server", addr, "--env", "production", "--target", "main-db"]
    assert main([*argv, "--repo", "acme/payments", str(tmp_path)]) == 4
    assert "may not check repository" in capsys.readouterr().err
    monkeypatch.setenv("SQLGATE_TOKEN", gate.tokens["ci-pay"])
    assert main([*argv, str(tmp_path)]) == 0
