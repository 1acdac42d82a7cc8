"""Bound the size of audit event details, whatever a caller put in its request.

Refusal events copy request fields (environment, target, digest maps, reasons) so a
probe leaves a trace; without a bound, any authenticated caller could append events of
megabytes to the append-only log. Long strings keep a prefix and the sha256 of the
whole (evidence survives, bulk does not), long collections are cut with a count, deep
nesting is flattened, and an event still over ``MAX_DETAILS_BYTES`` keeps only its
short scalar fields plus the size and sha256 of the full details.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from sqlgate.audit.chain import canonical_json

MAX_TEXT: Final = 1024  # characters kept of a string before it is summarised
MAX_ITEMS: Final = 100  # entries kept of a list or mapping
MAX_DEPTH: Final = 6
MAX_DETAILS_BYTES: Final = 32 * 1024  # canonical JSON of one event's details
_SCALAR_KEEP: Final = 256  # bytes of a scalar kept in an over-budget event


def _digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _text(value: str) -> str:
    if len(value) <= MAX_TEXT:
        return value
    raw = value.encode("utf-8", "surrogatepass")
    return f"{value[:256]}…[truncated: {len(value)} chars, {_digest(raw)}]"


def _bound(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return _text(canonical_json(value).decode("utf-8"))
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        out = {_text(str(k)): _bound(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…truncated"] = f"{len(items) - MAX_ITEMS} more of {len(items)} entries"
        return out
    if isinstance(value, list | tuple):
        kept = [_bound(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            kept.append(f"…truncated: {len(value) - MAX_ITEMS} more of {len(value)} items")
        return kept
    raise TypeError(f"audit details: {type(value).__name__} is not JSON")  # a programming error


def bound_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """``details`` unchanged when small; otherwise a bounded summary (see module doc)."""
    full = canonical_json(dict(details))
    if len(full) <= MAX_DETAILS_BYTES and _bound(dict(details), 0) == dict(details):
        return dict(details)
    out: dict[str, Any] = _bound(dict(details), 0)
    raw = canonical_json(out)
    if len(raw) <= MAX_DETAILS_BYTES:
        return out
    kept: dict[str, Any] = {
        k: v
        for k, v in out.items()
        if (v is None or isinstance(v, str | bool | int | float))
        and len(canonical_json(v)) <= _SCALAR_KEEP
    }
    kept["…truncated"] = {"bytes": len(full), "sha256": _digest(full)}
    return kept
