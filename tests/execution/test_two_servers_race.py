"""Single use across replicas: two ``sqlgate serve`` PROCESSES share one store and a
runner redeems the same token through both at the same instant (a barrier releases two
threads, one per server). Exactly one redemption succeeds; the other is
FAILED_PRECONDITION ``replay`` and an audit event; the chain (with its signed
checkpoints) still verifies. PostgreSQL is the production case; SQLite (one file, two
processes) is checked too.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from bindings import binding_for
from serving import SQLGATE, free_port, wait_serving
from sqlgate.audit.verify import verify_chain
from sqlgate.auth.identities import hash_token
from sqlgate.config import default_policies_dir
from sqlgate.policy.bundle import load_policy_set
from sqlgate.store import open_store
from sqlgate.store.base import VerdictRecord
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import build_statement, sign_verdict
from sqlgate_client.execution import CallRefused, ExecutionClient

from execution.conftest import DIGESTS
from execution.served import drop_schema, store_url

ROUNDS = 12
ENV, TARGET, RUNNER = "production", "main-db", "runner:deploy"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    pg = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    url, schema = store_url(request.param, tmp_path, pg)
    keys_dir = tmp_path / "keys"
    Keyset.generate(keys_dir)
    api_token = secrets.token_urlsafe(24)
    auditor_token = secrets.token_urlsafe(24)
    procs: list[subprocess.Popen[bytes]] = []
    addresses = []
    try:
        for _ in range(2):
            address = f"127.0.0.1:{free_port()}"
            config = tmp_path / f"sqlgate-{len(procs)}.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "listen": address,
                        "store": url,
                        "keys": str(keys_dir),
                        "audit_checkpoint_every": 5,
                        "principals": {
                            RUNNER: {
                                "tokens": [hash_token(api_token)],
                                "roles": {"runner": [ENV]},
                            },
                            "auditor:carol": {
                                "tokens": [hash_token(auditor_token)],
                                "roles": {"auditor": ["*"]},
                            },
                        },
                    }
                )
            )
            proc = subprocess.Popen(
                [*SQLGATE, "serve", "--config", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            procs.append(proc)
            addresses.append(address)
        for proc, address in zip(procs, addresses, strict=True):
            wait_serving(address, proc)
        yield {
            "addresses": addresses,
            "url": url,
            "keys": keys_dir,
            "token": api_token,
            "auditor": auditor_token,
        }
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if schema is not None and pg is not None:
            drop_schema(pg, schema)


def _put_allowed_verdict(url: str, keys_dir: Path) -> str:
    keyset = Keyset.load(keys_dir)
    # The servers refuse verdicts decided under another policy than the one they load.
    digest = load_policy_set(default_policies_dir()).digest
    verdict_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    statement = build_statement(
        verdict_id=verdict_id,
        decision="allow",
        digests=DIGESTS,
        binding=binding_for(DIGESTS),
        findings=[],
        environment=ENV,
        target=TARGET,
        repo="acme/app",
        commit="abc123",
        policy_digest=digest,
        approvals=[],
        issued_at=now,
        expires_at=now + timedelta(hours=1),
        audit_sequence=None,
    )
    store = open_store(url)
    try:
        store.put_verdict(
            VerdictRecord(
                verdict_id=verdict_id,
                created_at=now,
                expires_at=now + timedelta(hours=1),
                environment=ENV,
                target=TARGET,
                repo="acme/app",
                commit="abc123",
                decision="allow",
                policy_digest=digest,
                digests=DIGESTS,
                author="user:alice",
                envelope=sign_verdict(statement, keyset.signer("verdict")),
            )
        )
    finally:
        store.close()
    return verdict_id


@pytest.mark.slow
def test_exactly_one_replica_redeems(replicas: dict[str, Any]) -> None:
    clients = [
        ExecutionClient(address, api_token=replicas["token"]) for address in replicas["addresses"]
    ]
    try:
        # one verdict per round: a verdict yields one execution (see the test below)
        tokens = [
            clients[i % 2]
            .issue_token(_put_allowed_verdict(replicas["url"], replicas["keys"]), ENV, TARGET)
            .token
            for i in range(ROUNDS)
        ]
        barrier = threading.Barrier(2)
        outcomes: dict[int, list[str]] = {}
        lock = threading.Lock()

        def redeem(side: int) -> None:
            for round_no, token in enumerate(tokens):
                barrier.wait(timeout=60)
                try:
                    clients[side].redeem(token, ENV, TARGET, DIGESTS)
                    result = "won"
                except CallRefused as exc:
                    result = f"{exc.code.name if exc.code else '?'}:{exc.reason}"
                with lock:
                    outcomes.setdefault(round_no, []).append(result)

        threads = [threading.Thread(target=redeem, args=(side,)) for side in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert sorted(outcomes) == list(range(ROUNDS))
        for round_no, seen in outcomes.items():
            assert sorted(seen) == ["FAILED_PRECONDITION:replay", "won"], (round_no, seen)
    finally:
        for client in clients:
            client.channel.close()

    store = open_store(replicas["url"])
    try:
        events = list(store.iter_audit())
        keyset = Keyset.load(replicas["keys"]).public_keyset()
        report = verify_chain(
            store, lambda kid, data, sig: keyset.verify("checkpoint", kid, data, sig)
        )
    finally:
        store.close()
    assert report.ok, report.problem
    assert report.checkpoints >= 1
    redeemed = [e for e in events if e.kind == "token_redeem"]
    replays = [
        e for e in events if e.kind == "token_redeem_failed" and e.details["reason"] == "replay"
    ]
    assert len(redeemed) == len(replays) == ROUNDS
    assert {e.details["jti"] for e in redeemed} == {e.details["jti"] for e in replays}
    with ExecutionClient(replicas["addresses"][1], api_token=replicas["auditor"]) as auditor:
        assert auditor.verify_audit().ok


@pytest.mark.slow
def test_two_tokens_of_one_verdict_execute_once_across_replicas(replicas: dict[str, Any]) -> None:
    """Each replica issued its own token for the same verdict before either was used; both
    redeem at once: exactly one wins, the other is refused ``already_executed``."""
    clients = [
        ExecutionClient(address, api_token=replicas["token"]) for address in replicas["addresses"]
    ]
    try:
        pairs = []
        for _ in range(ROUNDS):
            verdict_id = _put_allowed_verdict(replicas["url"], replicas["keys"])
            pairs.append([c.issue_token(verdict_id, ENV, TARGET).token for c in clients])
        barrier = threading.Barrier(2)
        outcomes: dict[int, list[str]] = {}
        lock = threading.Lock()

        def redeem(side: int) -> None:
            for round_no, pair in enumerate(pairs):
                barrier.wait(timeout=60)
                try:
                    clients[side].redeem(pair[side], ENV, TARGET, DIGESTS)
                    result = "won"
                except CallRefused as exc:
                    result = f"{exc.code.name if exc.code else '?'}:{exc.reason}"
                with lock:
                    outcomes.setdefault(round_no, []).append(result)

        threads = [threading.Thread(target=redeem, args=(side,)) for side in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert sorted(outcomes) == list(range(ROUNDS))
        for round_no, seen in outcomes.items():
            assert sorted(seen) == ["FAILED_PRECONDITION:already_executed", "won"], (
                round_no,
                seen,
            )
    finally:
        for client in clients:
            client.channel.close()
