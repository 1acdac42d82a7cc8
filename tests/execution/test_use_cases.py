"""The execution use cases against a real store on SQLite and PostgreSQL, with a
controlled clock: every refusal has its reason code, leaves an audit event naming it,
and the audit chain still verifies."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from bindings import binding_for
from sqlgate.errors import ExecutionRefused
from sqlgate.trust.keys import Keyset
from sqlgate.trust.verdict import sha256_hex

from execution.conftest import DIGESTS, FILES, NOW, Harness, Who, hand_signed

RUNNER = Who("runner:deploy")
OTHER_RUNNER = Who("runner:other")
ENV, TARGET = "production", "main-db"


def refused(h: Harness, call: Callable[[], Any], reason: str, kind: str) -> ExecutionRefused:
    before = len(h.events())
    with pytest.raises(ExecutionRefused) as info:
        call()
    assert info.value.reason == reason, str(info.value)
    events = h.events()
    assert len(events) == before + 1
    assert events[-1].kind == kind
    assert events[-1].details["reason"] == reason
    assert events[-1].details["message"] == str(info.value)
    h.assert_chain_ok()
    return info.value


def redeem_refused(h: Harness, call: Callable[[], Any], reason: str) -> ExecutionRefused:
    return refused(h, call, reason, "token_redeem_failed")


def issue_refused(h: Harness, call: Callable[[], Any], reason: str) -> ExecutionRefused:
    return refused(h, call, reason, "token_issue_failed")


def issue(h: Harness, **verdict: Any) -> str:
    verdict_id = h.put_verdict(**verdict)
    return h.execution.issue_token(
        verdict_id, verdict.get("environment", ENV), verdict.get("target", TARGET), RUNNER
    ).token


def test_issue_and_redeem_once(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    issued = harness.execution.issue_token(verdict_id, ENV, TARGET, RUNNER)
    assert issued.exp == NOW + timedelta(seconds=300)
    assert harness.store.get_token(issued.jti).redeemed_at is None
    done = harness.execution.redeem(issued.token, ENV, TARGET, DIGESTS, RUNNER)
    assert (done.token_id, done.verdict_id, done.redeemed_at) == (issued.jti, verdict_id, NOW)
    assert harness.store.get_token(issued.jti).redeemed_at == NOW
    [issue_event] = harness.events("token_issue")
    [redeem_event] = harness.events("token_redeem")
    assert issue_event.details["jti"] == redeem_event.details["jti"] == issued.jti
    assert issue_event.principal == redeem_event.principal == RUNNER.id
    harness.assert_chain_ok()


def test_replay_is_refused(harness: Harness) -> None:
    token = issue(harness)
    harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER)
    err = redeem_refused(
        harness, lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER), "replay"
    )
    assert "already redeemed" in str(err)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b[:-2] + b"X\n", id="one-byte"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
    ],
)
def test_changed_bytes_are_refused(harness: Harness, mutate: Callable[[bytes], bytes]) -> None:
    token = issue(harness)
    path = "migrations/001_users.sql"
    sent = {**DIGESTS, path: sha256_hex(mutate(FILES[path]))}
    assert sent != DIGESTS
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, sent, RUNNER),
        "digest_mismatch",
    )
    # nothing was consumed: the right bytes still redeem
    harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER)


def test_missing_or_extra_file_is_refused(harness: Harness) -> None:
    token = issue(harness)
    fewer = dict(list(DIGESTS.items())[:1])
    more = {**DIGESTS, "migrations/003_extra.sql": "00" * 32}
    for sent in (fewer, more):
        redeem_refused(
            harness,
            lambda sent=sent: harness.execution.redeem(token, ENV, TARGET, sent, RUNNER),
            "digest_mismatch",
        )


def test_staging_token_presented_for_production(harness: Harness) -> None:
    token = issue(harness, environment="staging")
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, "production", TARGET, DIGESTS, RUNNER),
        "environment_mismatch",
    )


def test_token_for_another_target(harness: Harness) -> None:
    token = issue(harness, target="replica-db")
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "target_mismatch",
    )


def test_token_presented_by_another_runner(harness: Harness) -> None:
    token = issue(harness)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, OTHER_RUNNER),
        "runner_mismatch",
    )
    harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER)


def test_non_runner_cannot_redeem(harness: Harness) -> None:
    token = issue(harness)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, Who("user:alice")),
        "not_runner",
    )


def test_expired_token(harness: Harness) -> None:
    token = issue(harness)
    harness.now[0] = NOW + timedelta(seconds=300 + 31)  # ttl + verifier leeway
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "token_expired",
    )


def test_expired_in_store_even_within_verifier_leeway(harness: Harness) -> None:
    token = issue(harness)
    harness.now[0] = NOW + timedelta(seconds=300 + 5)  # within leeway; the store is exact
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "token_expired",
    )


def test_not_yet_valid_token(harness: Harness) -> None:
    token = issue(harness)
    harness.now[0] = NOW - timedelta(minutes=5)
    err = redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "token_expired",
    )
    assert "not valid before" in str(err)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "sqlgate",
        "aud": "sqlgate-runner",
        "sub": RUNNER.id,
        "jti": "0123456789abcdef0123456789abcdef",
        "verdict_id": "v",
        "digests": DIGESTS,
        "environment": ENV,
        "target": TARGET,
        "runner": RUNNER.id,
        "iat": "2030-01-01T12:00:00Z",
        "nbf": "2030-01-01T12:00:00Z",
        "exp": "2030-01-01T12:05:00Z",
        "binding": binding_for(DIGESTS),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize("missing", ["exp", "jti", "nbf", "aud", "verdict_id"])
def test_hand_signed_token_missing_a_claim(harness: Harness, missing: str) -> None:
    verdict_id = harness.put_verdict()
    token = hand_signed(harness.keyset, _claims(**{"verdict_id": verdict_id, missing: None}))
    err = redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "invalid_claims",
    )
    assert missing in str(err)


def test_hand_signed_token_over_fifteen_minutes(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    token = hand_signed(harness.keyset, _claims(verdict_id=verdict_id, exp="2030-01-01T12:30:00Z"))
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "invalid_claims",
    )


def test_hand_signed_token_never_issued(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    token = hand_signed(harness.keyset, _claims(verdict_id=verdict_id))
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "unknown_token",
    )


def _flip(token: str, part: int, byte: int) -> str:
    parts = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(parts[part] + "=" * (-len(parts[part]) % 4)))
    raw[byte] ^= 0x01
    parts[part] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    return ".".join(parts)


def test_bit_flipped_signature(harness: Harness) -> None:
    token = issue(harness)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(_flip(token, 2, -1), ENV, TARGET, DIGESTS, RUNNER),
        "bad_signature",
    )


def test_bit_flipped_claims(harness: Harness) -> None:
    token = issue(harness)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(_flip(token, 2, 10), ENV, TARGET, DIGESTS, RUNNER),
        "bad_signature",
    )


def test_forged_signature_under_the_real_kid(harness: Harness, tmp_path: Any) -> None:
    verdict_id = harness.put_verdict()
    attacker = Keyset.generate(tmp_path / "attacker")
    claims = _claims(verdict_id=verdict_id)
    token = hand_signed(attacker, claims, kid=harness.keyset.signer("token").key_id)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "bad_signature",
    )


def test_tampered_footer(harness: Harness) -> None:
    token = issue(harness)
    parts = token.split(".")
    other_kid = harness.keyset.signer("verdict").key_id
    for footer in (
        f'{{"kid":"{other_kid}"}}',  # a real key, of another purpose
        '{"kid":"sqlgate-token-0000000000000000"}',  # unknown
        '{"kid":"x","extra":1}',  # malformed
    ):
        tampered = ".".join(
            [*parts[:3], base64.urlsafe_b64encode(footer.encode()).decode().rstrip("=")]
        )
        redeem_refused(
            harness,
            lambda t=tampered: harness.execution.redeem(t, ENV, TARGET, DIGESTS, RUNNER),
            "bad_signature" if "extra" in footer else "bad_key",
        )
    harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER)


def test_footer_swapped_to_a_rotated_in_key(harness: Harness) -> None:
    """The footer is authenticated: pointing an old token at the new key fails."""
    token = issue(harness)
    new = harness.keyset.rotate("token")
    parts = token.split(".")
    footer = f'{{"kid":"{new.key_id}"}}'
    tampered = ".".join(
        [*parts[:3], base64.urlsafe_b64encode(footer.encode()).decode().rstrip("=")]
    )
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(tampered, ENV, TARGET, DIGESTS, RUNNER),
        "bad_signature",
    )


def test_rotated_key_still_verifies_until_revoked(harness: Harness) -> None:
    before = [issue(harness), issue(harness)]
    old_kid = harness.keyset.signer("token").key_id
    new = harness.keyset.rotate("token")
    after = issue(harness)
    assert harness.events("token_issue")[-1].details["key_id"] == new.key_id
    # signed by the now verify-only key: still redeemable
    harness.execution.redeem(before[0], ENV, TARGET, DIGESTS, RUNNER)
    harness.keyset.revoke(old_kid)
    err = redeem_refused(
        harness,
        lambda: harness.execution.redeem(before[1], ENV, TARGET, DIGESTS, RUNNER),
        "bad_key",
    )
    assert "revoked" in str(err)
    harness.execution.redeem(after, ENV, TARGET, DIGESTS, RUNNER)


@pytest.mark.parametrize("decision", ["needs_approval", "deny"])
def test_no_token_for_a_verdict_that_is_not_allowed(harness: Harness, decision: str) -> None:
    verdict_id = harness.put_verdict(decision=decision)
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, TARGET, RUNNER),
        "verdict_not_allowed",
    )
    assert harness.events("token_issue") == []


def test_approved_verdict_reissued_as_allow(harness: Harness) -> None:
    pending = harness.put_verdict(decision="needs_approval")
    approved = harness.put_verdict(decision="allow", supersedes=pending)
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(pending, ENV, TARGET, RUNNER),
        "verdict_superseded",
    )
    harness.execution.issue_token(approved, ENV, TARGET, RUNNER)


def test_no_token_for_a_superseded_verdict(harness: Harness) -> None:
    old = harness.put_verdict()
    harness.put_verdict(decision="deny", supersedes=old)
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(old, ENV, TARGET, RUNNER),
        "verdict_superseded",
    )


def test_token_dies_when_its_verdict_is_superseded(harness: Harness) -> None:
    old = harness.put_verdict()
    token = harness.execution.issue_token(old, ENV, TARGET, RUNNER).token
    harness.put_verdict(decision="deny", supersedes=old)
    redeem_refused(
        harness,
        lambda: harness.execution.redeem(token, ENV, TARGET, DIGESTS, RUNNER),
        "verdict_superseded",
    )


def test_no_token_for_a_non_runner(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, TARGET, Who("user:alice")),
        "not_runner",
    )
    # a runner in staging only is not a runner in production
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, TARGET, Who("runner:nobody")),
        "not_runner",
    )


def test_no_staging_token_from_a_production_verdict(harness: Harness) -> None:
    verdict_id = harness.put_verdict(environment="production")
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, "staging", TARGET, RUNNER),
        "environment_mismatch",
    )


def test_no_token_for_another_target(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, "other-db", RUNNER),
        "target_mismatch",
    )


def test_no_token_for_an_expired_verdict(harness: Harness) -> None:
    verdict_id = harness.put_verdict(ttl=timedelta(hours=1))
    harness.now[0] = NOW + timedelta(hours=1)
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, TARGET, RUNNER),
        "verdict_expired",
    )


def test_no_token_for_an_unknown_verdict(harness: Harness) -> None:
    issue_refused(
        harness,
        lambda: harness.execution.issue_token("nope", ENV, TARGET, RUNNER),
        "verdict_not_found",
    )


def test_tampered_verdict_row_is_refused(harness: Harness) -> None:
    verdict_id = harness.put_verdict(decision="deny")
    harness.backend.raw(
        "UPDATE verdicts SET decision = 'allow' WHERE verdict_id = ?", (verdict_id,)
    )
    assert harness.store.get_verdict(verdict_id).decision == "allow"
    issue_refused(
        harness,
        lambda: harness.execution.issue_token(verdict_id, ENV, TARGET, RUNNER),
        "verdict_invalid",
    )


def test_report_is_idempotent(harness: Harness) -> None:
    verdict_id = harness.put_verdict()
    issued = harness.execution.issue_token(verdict_id, ENV, TARGET, RUNNER)
    # not redeemed yet: refused
    refused(
        harness,
        lambda: harness.execution.report(
            "r1", issued.jti, verdict_id, "succeeded", details={}, principal=RUNNER
        ),
        "not_redeemed",
        "execution_report_failed",
    )
    harness.execution.redeem(issued.token, ENV, TARGET, DIGESTS, RUNNER)
    details = {"statements": [{"file": "migrations/001_users.sql", "outcome": "succeeded"}]}
    first = harness.execution.report(
        "r1", issued.jti, verdict_id, "succeeded", details=details, principal=RUNNER
    )
    again = harness.execution.report(
        "r1", issued.jti, verdict_id, "succeeded", details=details, principal=RUNNER
    )
    assert first.new and not again.new
    assert first.audit_sequence == again.audit_sequence
    assert len(harness.events("execution_report")) == 1
    refused(
        harness,
        lambda: harness.execution.report(
            "r1", issued.jti, verdict_id, "failed", details=details, principal=RUNNER
        ),
        "report_conflict",
        "execution_report_failed",
    )
    refused(
        harness,
        lambda: harness.execution.report(
            "r2", issued.jti, verdict_id, "succeeded", details={}, principal=OTHER_RUNNER
        ),
        "not_redeemed",
        "execution_report_failed",
    )
