"""``sqlgate keys rotate`` / ``revoke`` take effect on running servers, and are audited.

Two real ``sqlgate serve`` replicas share one store (SQLite and PostgreSQL) and one key
directory. The ``sqlgate keys`` CLI changes the directory while they run: both sign the
next tokens with the rotated key at once, both refuse a token signed by a key revoked
after it was issued (``bad_key``), both publish the new states through GetKeys, each
records the change it saw as a ``key_change`` audit event, and checkpoints follow a
rotated checkpoint key with the chain still verifying against the outside checkpoints.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving import SQLGATE
from sqlgate.audit.export import read_checkpoints, verify_extends
from sqlgate.store import open_store
from sqlgate.trust.keys import Keyset
from sqlgate_client.execution import CallRefused
from sqlgate_client.gen.sqlgate.v1 import common_pb2

from .test_crash_atomicity import ENV, TARGET, Crashable
from .test_crash_atomicity import server as server  # noqa: PLC0414 - the shared fixture

SAFE = b"CREATE TABLE audit_me (id bigint PRIMARY KEY);\n"


@pytest.fixture
def replicas(server: Crashable) -> Iterator[tuple[Crashable, Crashable]]:
    other = Crashable(server.tmp, server.url, server.tokens)
    server.start()
    other.start()
    try:
        yield server, other
    finally:
        other.stop()


def _keys(keys: Path, *args: str) -> str:
    out = subprocess.run(
        [*SQLGATE, "keys", *args, "--dir", str(keys)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _revokes(details: Any, key_id: str) -> bool:
    return any(c["key_id"] == key_id and c["to"] == "revoked" for c in details.get("changes", []))


def _active(keys: Path, purpose: str) -> str:
    [key_id] = [k.key_id for k in Keyset.load(keys) if k.purpose == purpose and k.state == "active"]
    return key_id


def _issued_key(url: str, jti: str) -> str:
    store = open_store(url)
    try:
        [event] = [
            e for e in store.iter_audit() if e.kind == "token_issue" and e.details["jti"] == jti
        ]
        return str(event.details["key_id"])
    finally:
        store.close()


@pytest.mark.slow
def test_rotate_and_revoke_reach_every_running_replica(
    replicas: tuple[Crashable, Crashable],
) -> None:
    a, b = replicas
    keys = a.tmp / "keys"
    verdict = a.check(SAFE)
    assert verdict.decision == common_pb2.DECISION_ALLOW
    [old] = [k.key_id for k in Keyset.load(keys) if k.purpose == "token"]
    ra, rb = a.runner(), b.runner()
    try:
        before = ra.issue_token(verdict.verdict_id, ENV, TARGET)
        assert _issued_key(a.url, before.token_id) == old

        _keys(keys, "rotate", "--purpose", "token")
        [new] = [
            k.key_id for k in Keyset.load(keys) if k.purpose == "token" and k.state == "active"
        ]
        for runner in (ra, rb):  # both replicas sign with the new key, no restart
            issued = runner.issue_token(verdict.verdict_id, ENV, TARGET)
            assert _issued_key(a.url, issued.token_id) == new

        _keys(keys, "revoke", old)
        store = open_store(a.url)
        digests = dict(store.get_verdict(verdict.verdict_id).digests)
        store.close()
        for runner in (ra, rb):  # a token the revoked key signed is dead everywhere
            with pytest.raises(CallRefused) as refused:
                runner.redeem(before.token, ENV, TARGET, digests)
            assert refused.value.reason == "bad_key", refused.value
            states = {e.key_id: e.state for e in runner.get_keys()}
            assert (states[old], states[new]) == ("revoked", "active")
        fresh = rb.issue_token(verdict.verdict_id, ENV, TARGET)
        ra.redeem(fresh.token, ENV, TARGET, digests)

        _keys(keys, "rotate", "--purpose", "checkpoint")
        cp_key = _active(keys, "checkpoint")
        for _ in range(4):  # enough events for a checkpoint (every 3) on each side
            a.check(SAFE)
            b.check(SAFE)
    finally:
        ra.channel.close()
        rb.channel.close()

    store = open_store(a.url)
    try:
        changes = [e for e in store.iter_audit() if e.kind == "key_change"]
        revoked = [e for e in changes if _revokes(e.details, old)]
        assert len(revoked) == 2, [e.details for e in changes]  # one per replica that saw it
        outside = read_checkpoints(a.tmp / "outside" / "checkpoints.jsonl")
        assert cp_key in {cp.key_id for cp in outside}, "checkpoints follow the rotated key"
        public = Keyset.load(keys).public_keyset()
        report = verify_extends(
            store, outside, lambda kid, d, s: public.verify("checkpoint", kid, d, s)
        )
        assert report.ok, report.problem
    finally:
        store.close()
    assert json.loads(_keys(keys, "public"))  # the directory is still a valid keyset
