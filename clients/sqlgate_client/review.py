"""Thin calls to ReviewService beyond Check: Approve and GetVerdict.

Same channel, TLS options and error mapping as ``sqlgate_client.check``
(``review_call``); the API token comes from the caller (the CLI reads SQLGATE_TOKEN).
Results are plain dicts with the envelope parsed.
"""

from __future__ import annotations

import json
from typing import Any

from sqlgate_client.check import DEFAULT_TIMEOUT_S, CheckError, review_call
from sqlgate_client.convert import DECISIONS
from sqlgate_client.gen.sqlgate.v1 import review_pb2
from sqlgate_client.tls import TlsOptions


def _verdict_dict(verdict_id: str, decision: int, envelope: bytes) -> dict[str, Any]:
    name = DECISIONS.get(decision)
    if name is None:
        raise CheckError(f"server returned an unknown decision {decision}")
    try:
        parsed = json.loads(envelope)
    except ValueError as exc:
        raise CheckError(f"server returned a verdict that is not JSON: {exc}") from exc
    return {"verdict_id": verdict_id, "decision": name, "verdict": parsed}


def approve_remote(
    address: str,
    verdict_id: str,
    *,
    reason: str,
    break_glass: bool = False,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    tls: TlsOptions | None = None,
) -> dict[str, Any]:
    """Approve ``verdict_id``; the new verdict's id, decision, envelope and ``missing``."""
    request = review_pb2.ApproveRequest(
        verdict_id=verdict_id, reason=reason, break_glass=break_glass
    )
    response = review_call(address, "Approve", request, token=token, timeout=timeout, tls=tls)
    result = _verdict_dict(response.verdict_id, response.decision, response.verdict)
    result["missing"] = list(response.missing)  # what the new verdict still needs
    return result


def get_verdict_remote(
    address: str,
    verdict_id: str,
    *,
    token: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    tls: TlsOptions | None = None,
) -> dict[str, Any]:
    """Fetch a stored verdict by id."""
    request = review_pb2.GetVerdictRequest(verdict_id=verdict_id)
    response = review_call(address, "GetVerdict", request, token=token, timeout=timeout, tls=tls)
    return _verdict_dict(response.verdict_id, response.decision, response.verdict)
