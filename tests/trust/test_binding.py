"""The verdict's binding: required in verdicts and tokens, checked field by field, and
built from the reviewer's own expansion and split."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from bindings import binding_for, binding_of_files
from sqlgate.trust.dsse import sign_envelope
from sqlgate.trust.keys import Keyset
from sqlgate.trust.tokens import issue_token
from sqlgate.trust.verdict import build_statement
from sqlgate_client import errors as client_errors
from sqlgate_client.trust.binding import parse_binding
from sqlgate_client.trust.dsse import INTOTO_PAYLOAD_TYPE
from sqlgate_client.trust.strictjson import dumps_canonical
from sqlgate_client.trust.tokens import verify_token
from sqlgate_client.trust.verdict import verify_verdict

CONTEXT = {"environment": "production", "target": "main-db", "runner": "runner-1"}


def _statement(digests: dict[str, str], now: datetime) -> dict[str, Any]:
    return build_statement(
        verdict_id="vd_b",
        decision="allow",
        digests=digests,
        findings=[],
        environment="production",
        target="main-db",
        repo=None,
        commit=None,
        policy_digest="sha256:" + "0" * 64,
        approvals=[],
        issued_at=now,
        expires_at=now + timedelta(hours=1),
        audit_sequence=None,
        binding=binding_for(digests),
    )


def _signed(statement: dict[str, Any], keyset: Keyset) -> bytes:
    """Signed with the real verdict key, bypassing the server's own shape check."""
    return sign_envelope(dumps_canonical(statement), INTOTO_PAYLOAD_TYPE, keyset.signer("verdict"))


def test_verdict_without_binding_is_refused(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    statement = _statement(digests, now)
    assert verify_verdict(_signed(statement, keyset), keyset.public_keyset(), now=now)
    del statement["predicate"]["binding"]
    with pytest.raises(client_errors.ClaimError, match=r"missing \['binding'\]"):
        verify_verdict(_signed(statement, keyset), keyset.public_keyset(), now=now)


def test_verdict_binding_must_cover_exactly_its_subjects(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    statement = _statement(digests, now)
    other = dict(digests)
    path = sorted(other)[0]
    other[path] = "f" * 64
    statement["predicate"]["binding"] = binding_for(other)
    with pytest.raises(client_errors.ClaimError, match="not the verdict's subjects"):
        verify_verdict(_signed(statement, keyset), keyset.public_keyset(), now=now)


def test_token_without_binding_or_with_anothers_is_refused(
    keyset: Keyset, digests: dict[str, str], now: datetime
) -> None:
    with pytest.raises(client_errors.ClaimError, match="binding"):
        bad = binding_for({"other.sql": "a" * 64})
        token = issue_token(
            keyset.signer("token"), verdict_id="v", digests=digests, binding=bad, **CONTEXT, now=now
        ).token
        verify_token(token, keyset.public_keyset(), digests=digests, now=now, **CONTEXT)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("dialect",), ""),
        (("version",), 2),
        (("version",), True),
        (("files",), []),
        (("files", 0, "spans"), [[5, 3]]),
        (("files", 0, "spans"), [[0, 4], [2, 6]]),
        (("files", 0, "spans"), [[0, 1.5]]),
        (("files", 0, "expanded_sha256"), "xyz"),
        (("settings",), {"standard_conforming_strings": 1}),
        (("target_identity",), {"system_identifier": "1"}),
    ],
)
def test_malformed_bindings_are_refused(path: tuple[Any, ...], value: Any) -> None:
    raw = binding_for({"a.sql": "a" * 64})
    raw["files"][0]["spans"] = [[0, 4], [5, 9]]
    parse_binding(raw)
    bad = copy.deepcopy(raw)
    node: Any = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(client_errors.ClaimError):
        parse_binding(bad)


def test_spans_are_byte_offsets_of_the_expanded_text() -> None:
    text = "\ufeffINSERT INTO t VALUES ('é;${x}');\n-- c\nSELECT '${y}'"
    bound = binding_of_files({"a.sql": text.encode()}, variables={"x": "ü", "y": "ß;"})
    [f] = bound["files"]
    expanded = "INSERT INTO t VALUES ('é;ü');\n-- c\nSELECT 'ß;'".encode()
    assert [expanded[a:b] for a, b in f["spans"]] == [
        "INSERT INTO t VALUES ('é;ü')".encode(),
        "SELECT 'ß;'".encode(),
    ]
