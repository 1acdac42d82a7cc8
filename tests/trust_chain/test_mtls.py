"""mTLS on a real server on 127.0.0.1: client certificates map to principals.

Certificates are made at test time with ``cryptography``: a CA, a server certificate
for 127.0.0.1 (SAN IP), client certificates named by SAN URI and by CN, an unmapped
one, and one from a foreign CA. gRPC verifies the chain during the handshake (a
foreign-CA or missing client certificate never reaches the interceptor: the client sees
UNAVAILABLE); the interceptor maps the verified certificate to a principal.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlgate.config import PrincipalConfig, TlsConfig
from sqlgate.rpc.server import RunningServer, create_server
from sqlgate_client.gen.sqlgate.v1 import (
    common_pb2,
    execution_pb2,
    execution_pb2_grpc,
    review_pb2,
    review_pb2_grpc,
)

from .conftest import trust_config

ROOT = Path(__file__).resolve().parents[2]
SQLGATE = [sys.executable, "-m", "sqlgate.cli.main"]
RUNNER = [sys.executable, "-m", "sqlgate_client.runner.cli"]
SAFE = b"CREATE TABLE t (id bigint PRIMARY KEY);\n"


@dataclasses.dataclass(frozen=True)
class Issued:
    cert: bytes
    key: bytes


class Ca:
    """A certificate authority made for one test."""

    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str, sans: list[x509.GeneralName], usage: x509.ObjectIdentifier) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )

    def client(self, cn: str, *sans: x509.GeneralName) -> Issued:
        return self.issue(cn, list(sans), ExtendedKeyUsageOID.CLIENT_AUTH)


@dataclasses.dataclass
class Tls:
    running: RunningServer
    ca: Ca
    clients: dict[str, Issued]
    tokens: dict[str, str]
    tmp: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    def channel(self, who: str | None, *, ca: Ca | None = None) -> grpc.Channel:
        """A TLS channel presenting ``who``'s certificate (None: no client certificate)."""
        issued = self.clients[who] if who is not None else None
        creds = grpc.ssl_channel_credentials(
            root_certificates=(ca or self.ca).pem,
            private_key=issued.key if issued else None,
            certificate_chain=issued.cert if issued else None,
        )
        return grpc.secure_channel(self.address, creds)

    def events(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (e.principal, dict(e.details))
            for e in self.running.app.store.iter_audit()
            if e.kind == kind
        ]

    def write(self, name: str, data: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(data)
        return path


def check(
    channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = (), repo: str = ""
) -> review_pb2.CheckResponse:
    request = review_pb2.CheckRequest(
        repo=repo,
        environment="production",
        target="main-db",
        dialect=common_pb2.DIALECT_POSTGRES,
        migrations=[review_pb2.Migration(path="db/V1__x.sql", content=SAFE)],
    )
    return review_pb2_grpc.ReviewServiceStub(channel).Check(request, timeout=30, metadata=metadata)


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[Tls]:
    config, tokens = trust_config(tmp_path, f"sqlite:///{tmp_path / 'sqlgate.db'}")
    ca, foreign = Ca("sqlgate test CA"), Ca("someone else's CA")
    server = ca.issue(
        "sqlgate",
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    clients = {
        "alice": ca.client("alice-laptop", x509.UniformResourceIdentifier("spiffe://acme/alice")),
        "rita": ca.client("deploy-runner-7"),  # mapped by CN only
        "bob": ca.client("bob-ws", x509.DNSName("bob.people.acme.test")),
        "nobody": ca.client("nobody", x509.UniformResourceIdentifier("spiffe://acme/nobody")),
        # Same names as alice's certificate, but signed by a CA the server does not trust.
        "forged": foreign.client(
            "alice-laptop", x509.UniformResourceIdentifier("spiffe://acme/alice")
        ),
    }
    certs = {
        "alice": ("uri:spiffe://acme/alice",),
        "bob": ("dns:bob.people.acme.test",),
        "rita": ("cn:deploy-runner-7",),
    }
    # alice's certificate principal is bound to one repository (docs/config.md).
    repositories = {"alice": ("acme/app",)}
    principals = (
        *(
            dataclasses.replace(
                p, certs=certs.get(p.id, ()), repositories=repositories.get(p.id, ())
            )
            for p in config.principals
        ),
        PrincipalConfig(id="rita", certs=certs["rita"], roles={"runner": ("*",)}),
    )
    d = tmp_path / "tls"
    d.mkdir()
    (d / "server.pem").write_bytes(server.cert)
    (d / "server.key").write_bytes(server.key)
    (d / "ca.pem").write_bytes(ca.pem)
    config = dataclasses.replace(
        config,
        principals=principals,
        tls=TlsConfig(cert=d / "server.pem", key=d / "server.key", client_ca=d / "ca.pem"),
    )
    running = create_server(config)
    running.server.start()
    try:
        yield Tls(running, ca, clients, tokens, d)
    finally:
        running.stop(None)


def test_mapped_certificate_authenticates_as_its_principal(tls: Tls) -> None:
    with tls.channel("alice") as channel:
        response = check(channel)
    assert response.verdict_id.startswith("vrd_")
    principal, details = tls.events("check")[-1]
    assert (principal, details["verdict_id"], details["author"]) == (
        "alice",
        response.verdict_id,
        "alice",
    )
    # Roles still apply to a certificate principal: bob (by SAN DNS) is no author.
    with tls.channel("bob") as channel, pytest.raises(grpc.RpcError) as info:
        check(channel)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "bob may not check" in (info.value.details() or "")


def test_certificate_principal_checks_only_its_bound_repository(tls: Tls) -> None:
    with tls.channel("alice") as channel:
        implicit = check(channel)
        named = check(channel, repo="acme/app")
        with pytest.raises(grpc.RpcError) as info:
            check(channel, repo="acme/billing")
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "may not check repository 'acme/billing'" in (info.value.details() or "")
    store = tls.running.app.store
    assert store.get_verdict(implicit.verdict_id).repo == "acme/app"
    assert store.get_verdict(named.verdict_id).repo == "acme/app"
    assert ("alice", "acme/billing") in [
        (principal, details.get("repo")) for principal, details in tls.events("auth_failed")
    ]


def test_cn_mapped_runner_gets_a_token_with_its_role(tls: Tls) -> None:
    with tls.channel("alice") as channel:
        verdict_id = check(channel).verdict_id
    request = execution_pb2.IssueExecutionTokenRequest(
        verdict_id=verdict_id, environment="production", target="main-db"
    )
    with tls.channel("rita") as channel:
        issued = execution_pb2_grpc.ExecutionServiceStub(channel).IssueExecutionToken(
            request, timeout=30
        )
    assert issued.token_id
    principal, details = tls.events("token_issue")[-1]
    assert (principal, details["runner"]) == ("rita", "rita")
    # alice's certificate holds no runner role.
    with tls.channel("alice") as channel, pytest.raises(grpc.RpcError) as info:
        execution_pb2_grpc.ExecutionServiceStub(channel).IssueExecutionToken(request, timeout=30)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_foreign_ca_certificate_is_refused_at_the_handshake(tls: Tls) -> None:
    before = len(list(tls.running.app.store.iter_audit()))
    with tls.channel("forged") as channel, pytest.raises(grpc.RpcError) as info:
        check(channel)
    # The TLS handshake fails, so no call reaches the server: the client sees UNAVAILABLE.
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
    assert len(list(tls.running.app.store.iter_audit())) == before
    assert not [e for e in tls.events("check")]


def test_no_client_certificate_is_refused(tls: Tls) -> None:
    with tls.channel(None) as channel, pytest.raises(grpc.RpcError) as info:
        check(channel, (("authorization", f"Bearer {tls.tokens['alice']}"),))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
    assert not tls.events("check")


def test_unmapped_certificate_is_unauthenticated_and_audited(tls: Tls) -> None:
    with tls.channel("nobody") as channel, pytest.raises(grpc.RpcError) as info:
        check(channel)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "maps to no principal" in (info.value.details() or "")
    principal, details = tls.events("auth_failed")[-1]
    assert principal == "unauthenticated"
    assert details["status"] == "UNAUTHENTICATED"
    assert details["method"] == "/sqlgate.v1.ReviewService/Check"
    assert "maps to no principal" in details["reason"]


def test_bearer_token_must_name_the_certificate_principal(tls: Tls) -> None:
    with tls.channel("alice") as channel:
        with pytest.raises(grpc.RpcError) as info:
            check(channel, (("authorization", f"Bearer {tls.tokens['bob']}"),))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "name different principals" in (info.value.details() or "")
        _, details = tls.events("auth_failed")[-1]
        assert "(bob)" in details["reason"] and "(alice)" in details["reason"]
        # The same principal by both credentials is fine.
        ok = check(channel, (("authorization", f"Bearer {tls.tokens['alice']}"),))
    assert ok.verdict_id


def test_cli_token_over_mtls(tls: Tls) -> None:
    with tls.channel("alice") as channel:
        verdict_id = check(channel).verdict_id
    rita = tls.clients["rita"]
    ca = tls.write("client-ca.pem", tls.ca.pem)
    cert, key = tls.write("rita.pem", rita.cert), tls.write("rita.key", rita.key)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    base = [
        sys.executable,
        "-m",
        "sqlgate.cli.main",
        "token",
        verdict_id,
        "--env",
        "production",
        "--target",
        "main-db",
        "--server",
        tls.address,
    ]
    done = subprocess.run(
        [*base, "--tls-ca", str(ca), "--tls-cert", str(cert), "--tls-key", str(key)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("v4.public.")
    principal, details = tls.events("token_issue")[-1]
    assert (principal, details["runner"]) == ("rita", "rita")
    # The same through the environment variables.
    env |= {"SQLGATE_TLS_CA": str(ca), "SQLGATE_TLS_CERT": str(cert), "SQLGATE_TLS_KEY": str(key)}
    again = subprocess.run(
        base, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False
    )
    assert again.returncode == 0, again.stderr
    assert len(tls.events("token_issue")) == 2
    # Without a client certificate the handshake fails and the CLI says so.
    no_cert = subprocess.run(
        [*base, "--tls-ca", str(ca)],
        capture_output=True,
        text=True,
        env={**env, "SQLGATE_TLS_CERT": "", "SQLGATE_TLS_KEY": ""},
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert no_cert.returncode != 0
    assert len(tls.events("token_issue")) == 2


def _pem_files(tls: Tls, who: str) -> list[str]:
    """``--tls-ca/--tls-cert/--tls-key`` for ``who``'s certificate, written to disk."""
    issued = tls.clients[who]
    return [
        "--tls-ca",
        str(tls.write("ca-for-clients.pem", tls.ca.pem)),
        "--tls-cert",
        str(tls.write(f"{who}.pem", issued.cert)),
        "--tls-key",
        str(tls.write(f"{who}.key", issued.key)),
    ]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}  # no API token
    return subprocess.run(
        args, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False
    )


@pytest.mark.postgres
def test_cli_check_and_runner_over_mtls(tls: Tls, pg_dsn: str) -> None:
    """``sqlgate check`` as alice's certificate, then ``sqlgate-runner`` as rita's: the
    reviewed file is applied to PostgreSQL, every call authenticated by certificate only."""
    schema = f"mtls_{uuid.uuid4().hex[:10]}"
    repo = tls.tmp / "repo"
    (repo / "db").mkdir(parents=True)
    (repo / "db" / "V1__t.sql").write_text(f"CREATE TABLE {schema}_t (id bigint PRIMARY KEY);\n")
    where = ["--server", tls.address, "--env", "production", "--target", "main-db"]
    checked = _run(
        [*SQLGATE, "check", *where, "--format", "json", *_pem_files(tls, "alice"), "db"], repo
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdict_id = json.loads(checked.stdout)["verdict_id"]
    principal, details = tls.events("check")[-1]
    assert (principal, details["verdict_id"]) == ("alice", verdict_id)

    runner = [
        *RUNNER,
        "apply",
        *where,
        "--dsn",
        pg_dsn,
        "--runner-id",
        "rita",
        "--state-dir",
        str(tls.tmp / "state"),
        "--history-table",
        f"{schema}.schema_history",
        "--verdict",
        verdict_id,
    ]
    # Without a client certificate the handshake fails: server unreachable, nothing run.
    refused = _run([*runner, "--tls-ca", str(tls.write("ca-only.pem", tls.ca.pem)), "db"], repo)
    assert refused.returncode == 17, refused.stdout + refused.stderr
    assert tls.events("token_issue") == []
    # A certificate without its key is a usage error before any call.
    half = _run(
        [*runner, "--tls-cert", str(tls.write("r.pem", tls.clients["rita"].cert)), "db"], repo
    )
    assert half.returncode == 2, half.stderr
    assert "needs its key" in half.stderr

    applied = _run([*runner, *_pem_files(tls, "rita"), "db"], repo)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert [p for p, _ in tls.events("token_issue")] == ["rita"]
    assert [p for p, _ in tls.events("token_redeem")] == ["rita"]
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}_t",)).fetchone()
        conn.execute(f"DROP TABLE {schema}_t; DROP SCHEMA {schema} CASCADE")
    assert row == (True,)


def test_cli_approve_over_mtls(tls: Tls) -> None:
    """``sqlgate approve`` presents bob's certificate (no API token) and is bob."""
    with tls.channel("alice") as channel:
        verdict_id = check(channel).verdict_id
    approved = _run(
        [
            *SQLGATE,
            "approve",
            verdict_id,
            "--reason",
            "reviewed over mTLS",
            "--server",
            tls.address,
            "--json",
            *_pem_files(tls, "bob"),
        ],
        ROOT,
    )
    assert approved.returncode in (0, 3), approved.stderr
    principal, _ = tls.events("approve")[-1]
    assert principal == "bob"
