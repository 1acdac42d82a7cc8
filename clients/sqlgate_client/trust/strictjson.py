"""Strict JSON parsing for signed material: duplicate keys and non-standard constants
are refused, because two parsers disagreeing on ``{"a":1,"a":2}`` is how signed data
gets reinterpreted after verification."""

from __future__ import annotations

import json
from typing import Any

from sqlgate_client.errors import TrustError


class DuplicateKey(ValueError):
    """An object has the same key twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def loads_strict(data: bytes | str, *, what: str, error: type[TrustError]) -> Any:
    """Parse ``data`` as strict JSON (UTF-8), raising ``error`` naming ``what`` on failure."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except DuplicateKey as exc:
        raise error(f"{what}: {exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"{what}: not valid JSON ({exc})") from exc


def dumps_canonical(value: Any) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no whitespace, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
