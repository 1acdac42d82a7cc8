"""A real sqlgate server on 127.0.0.1 per backend, for the gRPC adversarial tests.

Built by ``create_server`` from a config (store URL, key directory, principals with
hashed API tokens) exactly as ``sqlgate serve`` builds it; the only test hook is the
App's clock, a mutable cell, so expiry can be tested without waiting. Verdicts are put
in the store signed by the server's own verdict key (what Check/Approve store).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import psycopg
from bindings import binding_for
from psycopg import sql
from serving import address_of, pg_store_url, serving
from sqlgate.app import App
from sqlgate.auth.identities import hash_token
from sqlgate.config import config_from_mapping
from sqlgate.rpc.server import RunningServer
from sqlgate.store.base import VerdictRecord
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import build_statement, sign_verdict
from sqlgate_client.execution import CallRefused, ExecutionClient

from execution.conftest import DIGESTS, NOW

PRINCIPALS: dict[str, dict[str, list[str]]] = {
    "runner:deploy": {"runner": ["production", "staging"]},
    "runner:other": {"runner": ["production"]},
    "auditor:carol": {"auditor": ["*"]},
    "auditor:prod-only": {"auditor": ["production"]},
    "user:alice": {"author": ["production"]},
}


@dataclass
class Served:
    running: RunningServer
    address: str
    tokens: dict[str, str]  # principal id -> API token (clear, test side only)
    now: list[datetime]
    url: str
    keys_dir: Path

    @property
    def app(self) -> App:
        return self.running.app

    def client(self, principal: str | None) -> ExecutionClient:
        token = self.tokens[principal] if principal else None
        return ExecutionClient(self.address, api_token=token, timeout_s=30)

    def put_verdict(
        self,
        *,
        decision: str = "allow",
        environment: str = "production",
        target: str = "main-db",
        supersedes: str | None = None,
    ) -> str:
        verdict_id = uuid.uuid4().hex
        issued = self.now[0]
        expires = issued + timedelta(days=1)
        statement = build_statement(
            verdict_id=verdict_id,
            decision=decision,
            digests=DIGESTS,
            binding=binding_for(DIGESTS),
            findings=[],
            environment=environment,
            target=target,
            repo="acme/app",
            commit="abc123",
            policy_digest=self.app.engine.policy_digest,
            approvals=[],
            issued_at=issued,
            expires_at=expires,
            audit_sequence=None,
            supersedes=supersedes,
        )
        self.app.store.put_verdict(
            VerdictRecord(
                verdict_id=verdict_id,
                created_at=issued,
                expires_at=expires,
                environment=environment,
                target=target,
                repo="acme/app",
                commit="abc123",
                decision=decision,
                policy_digest=self.app.engine.policy_digest,
                digests=DIGESTS,
                author="user:alice",
                envelope=sign_verdict(statement, self.app.keyset.signer("verdict")),
                supersedes=supersedes,
            )
        )
        return verdict_id

    def events(self, kind: str) -> list[Any]:
        return [e for e in self.app.store.iter_audit() if e.kind == kind]


def server_config(url: str, keys_dir: Path, tokens: dict[str, str], **extra: Any) -> Any:
    return config_from_mapping(
        {
            "listen": "127.0.0.1:0",
            "store": url,
            "keys": str(keys_dir),
            "audit_checkpoint_every": 7,
            "principals": {
                pid: {"tokens": [hash_token(tokens[pid])], "roles": roles}
                for pid, roles in PRINCIPALS.items()
            },
            **extra,
        }
    )


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def store_url(kind: str, tmp: Path, pg_dsn: str | None) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'store.db'}", None
    assert pg_dsn is not None
    schema = f"x_{uuid.uuid4().hex[:12]}"
    return pg_store_url(pg_dsn, schema), schema


def serve(kind: str, tmp: Path, pg_dsn: str | None) -> Iterator[Served]:
    url, schema = store_url(kind, tmp, pg_dsn)
    keys_dir = tmp / "keys"
    Keyset.generate(keys_dir, now=NOW)
    tokens = {pid: secrets.token_urlsafe(24) for pid in PRINCIPALS}
    config = server_config(url, keys_dir, tokens)
    now = [NOW]
    app = App.build(config, clock=lambda: now[0])
    try:
        with serving(config, app=app, grace_s=0) as running:
            yield Served(running, address_of(running), tokens, now, url, keys_dir)
    finally:
        if schema is not None and pg_dsn is not None:
            drop_schema(pg_dsn, schema)


def refused(call: Any, code: grpc.StatusCode, reason: str | None = None) -> CallRefused:
    try:
        call()
    except CallRefused as exc:
        assert exc.code == code, exc
        if reason is not None:
            assert exc.reason == reason, exc
        return exc
    raise AssertionError(f"expected {code.name}, the call succeeded")
