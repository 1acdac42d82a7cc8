"""A use-case harness per backend: a fresh store (SQLite file or PostgreSQL schema), a
keyset generated under tmp_path, the audit log, role rules and a controllable clock.

Verdicts are really signed with the keyset's verdict key, so ``issue_token`` verifies
them exactly as it would a verdict the review service stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyseto
import pytest
from bindings import binding_for
from pyseto import Key
from sqlgate.audit.log import AuditLog
from sqlgate.audit.verify import verify_chain
from sqlgate.execution import Execution
from sqlgate.store.base import AuditRecord, VerdictRecord
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import build_statement, sha256_hex, sign_verdict
from sqlgate_client.trust.strictjson import dumps_canonical
from sqlgate_client.trust.tokens import implicit_assertion
from store.conftest import Backend, backend

__all__ = ["Backend", "Harness", "Who", "backend", "harness"]

NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
FILES = {
    "migrations/001_users.sql": b"CREATE TABLE users (id bigint PRIMARY KEY);\n",
    "migrations/002_index.sql": b"CREATE INDEX CONCURRENTLY users_id ON users (id);\n",
}
DIGESTS = {path: sha256_hex(data) for path, data in FILES.items()}
ROLES: dict[str, dict[str, set[str]]] = {
    "runner:deploy": {"production": {"runner"}, "staging": {"runner"}},
    "runner:other": {"production": {"runner"}},
    "user:alice": {"production": {"author"}},
}


@dataclass(frozen=True)
class Who:
    id: str


def has_role(principal: Any, role: str, environment: str) -> bool:
    return role in ROLES.get(principal.id, {}).get(environment, set())


@dataclass
class Harness:
    backend: Backend
    keyset: Keyset
    audit: AuditLog
    execution: Execution
    now: list[datetime] = field(default_factory=lambda: [NOW])

    @property
    def store(self) -> Any:
        return self.backend.store

    def put_verdict(
        self,
        *,
        decision: str = "allow",
        environment: str = "production",
        target: str = "main-db",
        supersedes: str | None = None,
        digests: dict[str, str] | None = None,
        ttl: timedelta = timedelta(days=1),
    ) -> str:
        verdict_id = uuid.uuid4().hex
        digests = dict(DIGESTS if digests is None else digests)
        issued = self.now[0]
        statement = build_statement(
            verdict_id=verdict_id,
            decision=decision,
            digests=digests,
            binding=binding_for(digests),
            findings=[],
            environment=environment,
            target=target,
            repo="acme/app",
            commit="abc123",
            policy_digest="sha256:" + "ab" * 32,
            approvals=[],
            issued_at=issued,
            expires_at=issued + ttl,
            audit_sequence=None,
            supersedes=supersedes,
        )
        envelope = sign_verdict(statement, self.keyset.signer("verdict"))
        self.store.put_verdict(
            VerdictRecord(
                verdict_id=verdict_id,
                created_at=issued,
                expires_at=issued + ttl,
                environment=environment,
                target=target,
                repo="acme/app",
                commit="abc123",
                decision=decision,
                policy_digest="sha256:" + "ab" * 32,
                digests=digests,
                author="user:alice",
                envelope=envelope,
                supersedes=supersedes,
            )
        )
        return verdict_id

    def events(self, kind: str | None = None) -> list[AuditRecord]:
        return [e for e in self.store.iter_audit() if kind is None or e.kind == kind]

    def assert_chain_ok(self) -> None:
        report = verify_chain(self.store)
        assert report.ok, report.problem


def hand_signed(
    keyset: Keyset,
    claims: dict[str, Any],
    *,
    environment: str = "production",
    target: str = "main-db",
    runner: str = "runner:deploy",
    digests: dict[str, str] | None = None,
    kid: str | None = None,
) -> str:
    """A token signed with the server's real token key, with whatever claims we like."""
    signer = keyset.signer("token")
    token = pyseto.encode(
        Key.new(4, "public", signer.private_pem()),
        dumps_canonical(claims),
        footer=dumps_canonical({"kid": kid or signer.key_id}),
        implicit_assertion=implicit_assertion(
            environment=environment,
            target=target,
            runner=runner,
            digests=DIGESTS if digests is None else digests,
        ),
    )
    return token.decode("ascii")


@pytest.fixture
def harness(backend: Backend, tmp_path: Path) -> Iterator[Harness]:
    keyset = Keyset.generate(tmp_path / "keys", now=NOW)
    now = [NOW]
    audit = AuditLog(backend.store, keyset.signer("checkpoint"), every=5, clock=lambda: now[0])
    execution = Execution(backend.store, keyset, audit, has_role, ttl_s=300, clock=lambda: now[0])
    yield Harness(backend, keyset, audit, execution, now)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One real server per backend per module (policies compile once per server)."""
    from execution.served import serve

    pg = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    yield from serve(request.param, tmp_path_factory.mktemp(f"served-{request.param}"), pg)
