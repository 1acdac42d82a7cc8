"""DSSE v1: the PAE encoding against the specification's published vectors, and every
way an envelope can be forged or tampered with."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from sqlgate.trust.dsse import sign_envelope
from sqlgate.trust.keys import Keyset, Signer
from sqlgate_client.errors import KeyRefused, SignatureError
from sqlgate_client.trust.dsse import INTOTO_PAYLOAD_TYPE, pae, verify_envelope
from sqlgate_client.trust.keyset import PublicKeyEntry, PublicKeyset, derive_key_id

# --- published vectors ------------------------------------------------------------------
# Source: github.com/secure-systems-lab/dsse, protocol.md "Test Vectors" (PAE example and
# its ECDSA P-256 signature) and testvectors/vectors.json (Ed25519 keys A and B are the
# RFC 8032 test keys). Only threshold-1 vectors are used: sqlgate does not do thresholds.

SPEC_PAE = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
SPEC_P256_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_P256_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_SIG = (
    "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
)

SEED_A = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
PUBLIC_A = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
SEED_B = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"
PUBLIC_B = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
STATEMENT_B64 = "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ=="
SIG_A_STATEMENT = (
    "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
)
SIG_B_STATEMENT = (
    "c1+67/aT0yqEpwx8PsVY3MLHsj9D0CZ014/Fv/QlG59P+9CobUZ7xECJ/V3USG0Ob9CiE5LjReEZUzNF2l7eBw=="
)

# (id, payload, payloadType, sig by A, expected PAE hex, accepted with that type pinned)
VECTORS = [
    (
        "single-signature",
        STATEMENT_B64,
        "application/vnd.in-toto+json",
        SIG_A_STATEMENT,
        "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203433"
        "207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f76"
        "31227d",
    ),
    (
        "url-safe-base64",
        "-_-_Pj8=",
        "application/vnd.in-toto+json",
        "P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==",
        "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203520"
        "fbffbf3e3f",
    ),
    (
        "non-ascii-payload-type",
        STATEMENT_B64,
        "application/vnd.exämple+json",
        "xmSk/ug66ysT7ayhkCIjhAq42zgZXSsEWuzUaNL7w2eGAdF/NU6/fRXPtmfN+5DNSAs5/i2lUnHjbbjPsu0tAw==",
        "445353457631203239206170706c69636174696f6e2f766e642e6578c3a46d706c652b6a736f6e2034"
        "33207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f"
        "7631227d",
    ),
    (
        "empty-payload",
        "",
        "application/vnd.in-toto+json",
        "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==",
        "445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203020",
    ),
]


def _b64any(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "/"))


def _vector_keyset(*publics: str, purpose: str = "verdict") -> PublicKeyset:
    return PublicKeyset(
        PublicKeyEntry(
            derive_key_id(purpose, bytes.fromhex(p)), purpose, bytes.fromhex(p), "active"
        )
        if i == 0
        else PublicKeyEntry(
            derive_key_id(purpose, bytes.fromhex(p)), purpose, bytes.fromhex(p), "verify-only"
        )
        for i, p in enumerate(publics)
    )


def _envelope(payload: str, payload_type: str, sigs: list[dict[str, str]]) -> bytes:
    return json.dumps(
        {"payload": payload, "payloadType": payload_type, "signatures": sigs}
    ).encode()


def test_pae_matches_the_spec_example() -> None:
    assert pae(b"http://example.com/HelloWorld", b"hello world") == SPEC_PAE


def test_spec_ecdsa_signature_verifies_over_our_pae() -> None:
    # The reference implementation signed its PAE; it must verify over ours byte for byte.
    key = ec.EllipticCurvePublicNumbers(SPEC_P256_X, SPEC_P256_Y, ec.SECP256R1()).public_key()
    raw = base64.b64decode(SPEC_SIG)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, pae(b"http://example.com/HelloWorld", b"hello world"), ec.ECDSA(SHA256()))


def test_vector_keys_are_the_rfc8032_keys() -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for seed, public in ((SEED_A, PUBLIC_A), (SEED_B, PUBLIC_B)):
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
        assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == public


@pytest.mark.parametrize(("vid", "payload", "ptype", "sig", "pae_hex"), VECTORS)
def test_vector_pae_bytes(vid: str, payload: str, ptype: str, sig: str, pae_hex: str) -> None:
    assert pae(ptype.encode("utf-8"), _b64any(payload)).hex() == pae_hex, vid


@pytest.mark.parametrize(("vid", "payload", "ptype", "sig", "pae_hex"), VECTORS)
def test_vector_envelopes_are_accepted(
    vid: str, payload: str, ptype: str, sig: str, pae_hex: str
) -> None:
    keyset = _vector_keyset(PUBLIC_A)
    kid = derive_key_id("verdict", bytes.fromhex(PUBLIC_A))  # keyid is an unsigned hint
    for sigs in ([{"keyid": kid, "sig": sig}], [{"sig": sig}]):
        got = verify_envelope(_envelope(payload, ptype, sigs), keyset, ptype)
        assert got == _b64any(payload), vid


def test_vector_payload_type_swapped_is_rejected() -> None:
    keyset = _vector_keyset(PUBLIC_A)
    kid = derive_key_id("verdict", bytes.fromhex(PUBLIC_A))
    env = _envelope(
        STATEMENT_B64,
        "application/vnd.example.other+json",
        [{"keyid": kid, "sig": SIG_A_STATEMENT}],
    )
    with pytest.raises(SignatureError):
        verify_envelope(env, keyset, "application/vnd.example.other+json")


def test_vector_empty_payload_type_is_rejected() -> None:
    keyset = _vector_keyset(PUBLIC_A)
    sig = "iC3q/+3Rm0+lpAJRueDmDh15PnwCfxKmS0NAfKsbv+zgulXQC/WM9trc+j1XEqlwDIg/vf/uNfebeD6sxInrDg=="
    env = _envelope(STATEMENT_B64, "", [{"sig": sig}])
    with pytest.raises(SignatureError, match="payloadType"):
        verify_envelope(env, keyset, INTOTO_PAYLOAD_TYPE)


def test_vector_two_distinct_signers_both_verify() -> None:
    keyset = _vector_keyset(PUBLIC_A, PUBLIC_B)
    env = _envelope(
        STATEMENT_B64,
        INTOTO_PAYLOAD_TYPE,
        [{"sig": SIG_A_STATEMENT}, {"sig": SIG_B_STATEMENT}],
    )
    assert verify_envelope(env, keyset, INTOTO_PAYLOAD_TYPE) == _b64any(STATEMENT_B64)
    # B is not pinned: its signature verifies under no key, so the envelope is refused.
    with pytest.raises(SignatureError):
        verify_envelope(env, _vector_keyset(PUBLIC_A), INTOTO_PAYLOAD_TYPE)


# --- our envelopes ------------------------------------------------------------------------

PAYLOAD = b'{"hello":"world"}'


def _signed(keyset: Keyset, payload: bytes = PAYLOAD) -> bytes:
    return sign_envelope(payload, INTOTO_PAYLOAD_TYPE, keyset.signer("verdict"))


def _edit(envelope: bytes, **changes: object) -> bytes:
    doc = json.loads(envelope)
    doc.update(changes)
    return json.dumps(doc).encode()


def test_sign_verify_roundtrip(keyset: Keyset) -> None:
    env = _signed(keyset)
    assert verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE) == PAYLOAD
    doc = json.loads(env)
    assert doc["signatures"][0]["keyid"] == keyset.signer("verdict").key_id
    assert base64.b64decode(doc["payload"]) == PAYLOAD


def test_forged_signature_by_unpinned_key_is_refused(keyset: Keyset) -> None:
    real = keyset.signer("verdict")
    forger = Signer(real.key_id, "verdict", Ed25519PrivateKey.generate())  # claims real's id
    env = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, forger)
    with pytest.raises(SignatureError):
        verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_bit_flipped_signature_is_refused(keyset: Keyset) -> None:
    env = json.loads(_signed(keyset))
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[10] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    with pytest.raises(SignatureError):
        verify_envelope(json.dumps(env).encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_tampered_payload_is_refused(keyset: Keyset) -> None:
    env = _edit(_signed(keyset), payload=base64.b64encode(b'{"hello":"World"}').decode())
    with pytest.raises(SignatureError):
        verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_wrong_payload_type_is_refused(keyset: Keyset) -> None:
    env = sign_envelope(PAYLOAD, "application/vnd.other+json", keyset.signer("verdict"))
    with pytest.raises(SignatureError, match="payloadType"):
        verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)
    # Relabelling the envelope to the expected type breaks the signature (PAE covers it).
    with pytest.raises(SignatureError):
        verify_envelope(
            _edit(env, payloadType=INTOTO_PAYLOAD_TYPE),
            keyset.public_keyset(),
            INTOTO_PAYLOAD_TYPE,
        )


def test_unknown_key_id_is_refused(keyset: Keyset) -> None:
    env = json.loads(_signed(keyset))
    env["signatures"][0]["keyid"] = "sqlgate-verdict-0000000000000000"
    with pytest.raises(KeyRefused, match="not in the pinned keyset"):
        verify_envelope(json.dumps(env).encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_revoked_key_id_is_refused(keyset: Keyset) -> None:
    env = _signed(keyset)
    old = keyset.signer("verdict").key_id
    keyset.rotate("verdict")
    assert verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE) == PAYLOAD
    keyset.revoke(old)
    with pytest.raises(KeyRefused, match="revoked"):
        verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)
    # Without the keyid hint the revoked key is not tried either.
    env_no_hint = json.loads(env)
    del env_no_hint["signatures"][0]["keyid"]
    with pytest.raises(SignatureError):
        verify_envelope(
            json.dumps(env_no_hint).encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE
        )


def test_key_of_wrong_purpose_is_refused(keyset: Keyset) -> None:
    env = sign_envelope(PAYLOAD, INTOTO_PAYLOAD_TYPE, keyset.signer("token"))
    with pytest.raises(KeyRefused, match="token key, not a verdict key"):
        verify_envelope(env, keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_duplicate_keys_in_envelope_json_are_refused(keyset: Keyset) -> None:
    env = _signed(keyset).decode()
    other = base64.b64encode(b'{"hello":"evil"}').decode()
    duplicated = env.replace('{"payload":', f'{{"payload":"{other}","payload":', 1)
    assert duplicated.count('"payload":') == 2
    with pytest.raises(SignatureError, match="duplicate key 'payload'"):
        verify_envelope(duplicated.encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_duplicate_keys_inside_a_signature_are_refused(keyset: Keyset) -> None:
    env = _signed(keyset).decode()
    duplicated = env.replace('{"keyid":', '{"keyid":"x","keyid":', 1)
    with pytest.raises(SignatureError, match="duplicate key 'keyid'"):
        verify_envelope(duplicated.encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


@pytest.mark.parametrize(
    "mutation",
    [
        {"extra": 1},
        {"signatures": []},
        {"signatures": [{"keyid": "k"}]},
        {"signatures": [{"sig": "AAAA", "cert": "x"}]},
        {"payload": "not base64!"},
        {"payload": 5},
    ],
)
def test_malformed_envelopes_are_refused(keyset: Keyset, mutation: dict[str, object]) -> None:
    with pytest.raises(SignatureError):
        verify_envelope(
            _edit(_signed(keyset), **mutation), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE
        )


def test_missing_top_level_field_is_refused(keyset: Keyset) -> None:
    doc = json.loads(_signed(keyset))
    del doc["payloadType"]
    with pytest.raises(SignatureError, match="exactly the fields"):
        verify_envelope(json.dumps(doc).encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)


def test_one_bad_signature_among_good_ones_refuses(keyset: Keyset) -> None:
    doc = json.loads(_signed(keyset))
    good = doc["signatures"][0]
    doc["signatures"] = [
        good,
        {"keyid": good["keyid"], "sig": base64.b64encode(bytes(64)).decode()},
    ]
    with pytest.raises(SignatureError):
        verify_envelope(json.dumps(doc).encode(), keyset.public_keyset(), INTOTO_PAYLOAD_TYPE)
