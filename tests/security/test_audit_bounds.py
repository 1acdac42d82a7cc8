"""Audit events stay bounded and verifiable whatever a caller sends.

Finding: refusal events copied request fields verbatim (environment, target, the digest
map of a redeem), so any authenticated caller could append megabyte-sized events to the
append-only log with one call each. Events are now bounded: long strings keep a prefix
and the sha256 of the whole, long collections are cut, and an event still over the
budget keeps only its short scalar fields plus the size and sha256 of what was dropped.
"""

from __future__ import annotations

import hashlib

import grpc
import pytest
from sqlgate.audit.chain import canonical_json
from sqlgate.audit.log import MAX_DETAILS_BYTES
from sqlgate.audit.verify import verify_chain
from sqlgate_client.gen.sqlgate.v1 import common_pb2, execution_pb2, execution_pb2_grpc

from .conftest import Env


def _chain_ok(env: Env) -> None:
    app = env.running.app
    keys = app.keyset.public_keyset()

    def check(key_id: str, data: bytes, signature: bytes) -> None:
        keys.verify("checkpoint", key_id, data, signature)

    report = verify_chain(app.store, check)
    assert report.ok, report


def _redeem(env: Env, who: str, environment: str, digests: dict[str, str]) -> None:
    stub = execution_pb2_grpc.ExecutionServiceStub(env.channel)
    request = execution_pb2.RedeemTokenRequest(
        token="v4.public.x.y",
        environment=environment,
        target="main-db",
        digests=[common_pb2.FileDigest(path=p, sha256=d) for p, d in digests.items()],
    )
    stub.RedeemToken(request, timeout=60, metadata=env.meta(who))


@pytest.mark.parametrize("who", ["rita", "nobody"])
def test_huge_refused_redeem_leaves_a_bounded_event(env: Env, who: str) -> None:
    huge_env = "production" + "\u00e9" * 1_000_000
    digests = {f"db/{i:05d}_" + "x" * 200 + ".sql": "0" * 64 for i in range(3000)}
    before = len(env.events())
    with pytest.raises(grpc.RpcError) as info:
        _redeem(env, who, huge_env, digests)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    (event,) = env.events()[before:]
    assert event.kind == "token_redeem_failed"
    assert event.details["reason"] == "not_runner"
    size = len(canonical_json(dict(event.details)))
    assert size <= MAX_DETAILS_BYTES, size
    text = str(dict(event.details))
    assert hashlib.sha256(huge_env.encode()).hexdigest() in text  # evidence kept as a hash
    _chain_ok(env)


def test_control_and_separator_characters_do_not_break_the_chain(env: Env) -> None:
    odd = 'production\x00\u2028\u2029\ud7ff\ufeff"\\\n'
    with pytest.raises(grpc.RpcError):
        _redeem(env, "rita", odd, {"a.sql": "0" * 64})
    last = env.events()[-1]
    assert last.details["environment"] == odd
    _chain_ok(env)
