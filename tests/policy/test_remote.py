"""RemoteOpaEngine (``policies.engine: opa``) against real OPA 0.61 server processes.

One OPA serves the bundle ``sqlgate policy build`` writes (revision = the policy digest);
a second serves hand-written policies that misbehave (undefined, inconsistent, malformed,
slow); a third requires a bearer token over TLS. Everything that is not the expected
revision and a well-formed result is an error (deny), never an allow.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from opa_tools import OpaServer, bundle_config, opa_server, self_signed_tls
from serving import free_port
from sqlgate.config import config_from_mapping
from sqlgate.errors import ConfigError, PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.factory import load_engine
from sqlgate.policy.opa_bundle import bundle_files, write_tarball
from sqlgate.policy.remote import RemoteOpaEngine

from .conftest import POLICIES
from .inputs import policy_input, stmt

MISBEHAVING = """package misbehaving

import rego.v1

finding := {"rule": "x", "level": "deny", "statement": 0, "file": "f.sql", "line": 1,
            "column": 1, "message": "m", "help": "h"}

inconsistent := {"result": {"decision": "allow", "findings": [finding]}}

malformed := {"result": {"decision": "allow", "findings": "none"}}

bad_level := {"result": {"decision": "deny", "findings": [object.union(finding, {"level": "x"})]}}

undefined := {"result": x} if x := input.nothing

slow := {"result": {"decision": "allow", "findings": [], "n": n}} if {
	n := count([i | some i in numbers.range(1, 4000000); i % 7 == 0])
}
"""

AUTHZ = """package system.authz

import rego.v1

default allow := false

allow if input.identity == "%s"
"""


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("remote-opa")


@pytest.fixture(scope="module")
def bundle(policy_set: PolicySet, tmp: Path) -> Path:
    path = tmp / "bundle.tar.gz"
    write_tarball(bundle_files(policy_set), path)
    return path


@pytest.fixture(scope="module")
def opa(bundle: Path, tmp: Path) -> Iterator[OpaServer]:
    config = bundle_config(tmp, bundle)
    with opa_server(["-c", str(config)], tmp, ready="/health?bundles") as server:
        yield server


@pytest.fixture(scope="module")
def misbehaving(tmp: Path) -> Iterator[OpaServer]:
    (tmp / "misbehaving.rego").write_text(MISBEHAVING)
    with opa_server([str(tmp / "misbehaving.rego")], tmp) as server:
        yield server


def _inputs() -> list[dict[str, object]]:
    return [
        policy_input([stmt("create_table", 0)]),
        policy_input([stmt("drop_table", 0)]),
        policy_input([stmt("create_index", 0)]),
        policy_input([stmt("drop_table", 0), stmt("unknown", 1)], environment="staging"),
    ]


def test_same_results_as_the_embedded_engine(
    opa: OpaServer, engine: EmbeddedEngine, policy_set: PolicySet
) -> None:
    remote = RemoteOpaEngine(opa.url, policy_digest=policy_set.digest)
    decisions = set()
    for doc in _inputs():
        result = remote.evaluate(doc)
        assert result == engine.evaluate(doc)
        decisions.add(result.decision)
    assert decisions == {"allow", "needs_approval", "deny"}
    assert remote.policy_digest == policy_set.digest
    remote.close()


def test_revision_is_checked_against_the_expected_digest(
    opa: OpaServer, policy_set: PolicySet
) -> None:
    unpinned = RemoteOpaEngine(opa.url)
    assert unpinned.policy_digest == "opa:unversioned"
    unpinned.evaluate(_inputs()[0])
    assert unpinned.policy_digest == f"opa:sqlgate@{policy_set.digest}"
    other = "sha256:" + "0" * 64
    with pytest.raises(PolicyEvaluationError, match="revision"):
        RemoteOpaEngine(opa.url, policy_digest=other).evaluate(_inputs()[0])
    # A bundle of another name carries no revision for "sqlgate": refused, not trusted.
    with pytest.raises(PolicyEvaluationError, match="revision None"):
        RemoteOpaEngine(opa.url, policy_digest=policy_set.digest, bundle="other").evaluate(
            _inputs()[0]
        )


def test_budget_scales_with_the_statement_count(opa: OpaServer, policy_set: PolicySet) -> None:
    """845 statements: a flat tiny budget is a timeout (deny); the same base budget plus the
    per-1k allowance answers, with the same result as the embedded engine."""
    doc = policy_input([stmt("create_index", i, line=i + 1) for i in range(845)])
    flat = RemoteOpaEngine(
        opa.url, policy_digest=policy_set.digest, timeout_s=0.01, timeout_per_1k_statements_s=0
    )
    with pytest.raises(PolicyTimeout):
        flat.evaluate(doc)
    scaled = RemoteOpaEngine(
        opa.url, policy_digest=policy_set.digest, timeout_s=0.01, timeout_per_1k_statements_s=60
    )
    result = scaled.evaluate(doc)
    assert result.decision == "deny"
    assert len({f.statement for f in result.findings}) == 845


@pytest.mark.parametrize(
    ("package", "error", "match"),
    [
        ("misbehaving/inconsistent", PolicyEvaluationError, "inconsistent"),
        ("misbehaving/malformed", PolicyEvaluationError, "findings is not a list"),
        ("misbehaving/bad_level", PolicyEvaluationError, "level"),
        ("misbehaving/undefined", PolicyEvaluationError, "no result"),
        ("misbehaving/nonexistent", PolicyEvaluationError, "no result"),
        ("misbehaving/slow", PolicyTimeout, "within"),
    ],
)
def test_misbehaving_policies_fail_closed(
    misbehaving: OpaServer, package: str, error: type[Exception], match: str
) -> None:
    # `package` names the package holding `result`; the rule queried is <package>/result.
    parent, _, name = package.rpartition("/")
    remote = RemoteOpaEngine(misbehaving.url, package=f"{parent}/{name}", timeout_s=0.3)
    with pytest.raises(error, match=match):
        remote.evaluate(_inputs()[0])


def test_unreachable_or_wrong_server_fails_closed(opa: OpaServer) -> None:
    with pytest.raises(PolicyEvaluationError, match="OPA query failed"):
        RemoteOpaEngine(f"http://127.0.0.1:{free_port()}").evaluate(_inputs()[0])
    with pytest.raises(PolicyEvaluationError, match="HTTP 404"):
        RemoteOpaEngine(opa.url + "/not-opa").evaluate(_inputs()[0])
    with pytest.raises(ValueError, match="http"):
        RemoteOpaEngine("ftp://127.0.0.1:1")


def test_bearer_token_over_tls(policy_set: PolicySet, bundle: Path, tmp: Path) -> None:
    token = secrets.token_hex(16)
    authz = tmp / "authz" / "authz.rego"
    authz.parent.mkdir()
    authz.write_text(AUTHZ % token)
    cert, key = self_signed_tls(tmp)
    args = [
        "-c",
        str(bundle_config(tmp, bundle)),
        str(authz),
        "--authentication=token",
        "--authorization=basic",
        "--tls-cert-file",
        str(cert),
        "--tls-private-key-file",
        str(key),
    ]
    with opa_server(args, tmp, ready="/health?bundles", tls_ca=cert, token=token) as server:
        good = RemoteOpaEngine(server.url, policy_digest=policy_set.digest, token=token, ca=cert)
        assert good.evaluate(_inputs()[1]).decision == "needs_approval"
        for bad_token in (None, token + "x"):
            remote = RemoteOpaEngine(
                server.url, policy_digest=policy_set.digest, token=bad_token, ca=cert
            )
            with pytest.raises(PolicyEvaluationError, match="HTTP 401"):
                remote.evaluate(_inputs()[1])
        # Without the CA the self-signed certificate is not trusted: refused.
        untrusted = RemoteOpaEngine(server.url, policy_digest=policy_set.digest, token=token)
        with pytest.raises(PolicyEvaluationError, match=r"SSL|certificate"):
            untrusted.evaluate(_inputs()[1])
        plain = RemoteOpaEngine(
            server.url.replace("https", "http"), policy_digest=policy_set.digest, token=token
        )
        with pytest.raises(PolicyEvaluationError):
            plain.evaluate(_inputs()[1])


def test_config_selects_the_remote_engine(
    opa: OpaServer, policy_set: PolicySet, monkeypatch: pytest.MonkeyPatch, tmp: Path
) -> None:
    monkeypatch.setenv("SQLGATE_TEST_OPA_TOKEN", "t0ken")
    config = config_from_mapping(
        {
            "policies": {
                "dir": str(POLICIES),
                "engine": "opa",
                "timeout_s": 2,
                "opa": {"url": opa.url, "token_env": "SQLGATE_TEST_OPA_TOKEN"},
            }
        }
    )
    engine = load_engine(config)
    assert isinstance(engine, RemoteOpaEngine)
    assert engine.policy_digest == policy_set.digest
    assert engine.evaluate(_inputs()[1]).decision == "needs_approval"
    # The expected digest is the configured tree's: OPA serving another revision is refused.
    other = tmp / "edited"
    other.mkdir(exist_ok=True)
    import shutil

    shutil.copytree(POLICIES, other / "policies", dirs_exist_ok=True)
    with (other / "policies" / "main.rego").open("a") as f:
        f.write("\n# edited\n")
    edited = config_from_mapping(
        {"policies": {"dir": str(other / "policies"), "engine": "opa", "opa": {"url": opa.url}}}
    )
    with pytest.raises(PolicyEvaluationError, match="revision"):
        load_engine(edited).evaluate(_inputs()[1])


@pytest.mark.parametrize(
    ("policies", "match"),
    [
        ({"engine": "opa"}, "needs a policies.opa"),
        ({"engine": "remote", "opa": {"url": "http://x"}}, "expected one of embedded, opa"),
        ({"engine": "opa", "opa": {"url": "http://x", "bogus": 1}}, "unknown key"),
        (
            {"engine": "opa", "opa": {"url": "http://x", "client_cert": "c.pem"}},
            "both client_cert and client_key",
        ),
        (
            {"engine": "opa", "opa": {"url": "http://x", "token_env": "A", "token_file": "f"}},
            "token_env or token_file",
        ),
    ],
)
def test_config_errors(policies: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_mapping({"policies": policies})


@pytest.mark.parametrize(
    ("opa_section", "match"),
    [
        ({"url": "http://127.0.0.1:1", "token_env": "SQLGATE_TEST_UNSET_TOKEN"}, "is not set"),
        ({"url": "http://127.0.0.1:1", "token_file": "/nonexistent/token"}, "cannot read"),
        ({"url": "http://127.0.0.1:1", "ca": "ca.pem"}, "plain http"),
        ({"url": "opa:8181"}, "http"),
    ],
)
def test_unusable_settings_stop_the_start(
    opa_section: dict[str, object], match: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SQLGATE_TEST_UNSET_TOKEN", raising=False)
    config = config_from_mapping(
        {"policies": {"dir": str(POLICIES), "engine": "opa", "opa": opa_section}}
    )
    with pytest.raises(ConfigError, match=match):
        load_engine(config)
