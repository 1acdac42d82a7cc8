"""Migration metadata: a ``<file>.yaml`` sidecar or a ``-- sqlgate:meta`` header block.

Either source declares where a migration may run, how risky it is, how it is rolled
back and the timeouts the runner sets (docs/metadata.md). Validation is strict: an
unknown key, a wrong type or an impossible combination is a MetadataError naming the
file and the key (INVALID_ARGUMENT / exit 2), because a typo in ``environments`` must
not silently let a migration run everywhere. Declaring both a sidecar and a header is
refused for the same reason: two sources could disagree.

The normalised result (``files[].metadata`` in the policy input) has only the keys
declared, plus ``source`` (``sidecar`` or ``header``); ``{}`` when nothing is declared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from sqlgate_client.metaheader import header_block, parse_checks

from sqlgate.errors import MetadataError

__all__ = ["KEYS", "header_block", "load_metadata", "validate"]

RISKS = ("low", "medium", "high")
ROLLBACKS = ("transactional", "compensating", "none")
KEYS = (
    "environments",
    "risk",
    "rollback",
    "rollback_file",
    "reason",
    "expected_runtime",
    "owner",
    "lock_timeout",
    "statement_timeout",
    "reconcile",
)
# A PostgreSQL-style duration: 500ms, 5s, 2min, 1h (or a bare number of milliseconds).
_DURATION = re.compile(r"^\d+(\.\d+)?\s*(ms|s|min|h|d)?$")
_ENV = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _load_yaml(raw: str, path: str, what: str) -> Mapping[str, Any]:
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise MetadataError(f"{what} metadata is not valid YAML: {exc}", file=path) from exc
    except RecursionError:  # thousands of nested [[[...]]]: an input error, not INTERNAL
        raise MetadataError(f"{what} metadata nests too deeply", file=path) from None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MetadataError(f"{what} metadata must be a mapping of key: value", file=path)
    return value


def _string(path: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MetadataError(f"{key}: expected a non-empty string, got {value!r}", file=path)
    return value.strip()


def _duration(path: str, key: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return f"{value}ms"
    text = _string(path, key, value)
    if not _DURATION.match(text):
        raise MetadataError(
            f"{key}: expected a duration such as 500ms, 5s, 2min or 1h, got {value!r}", file=path
        )
    return text.replace(" ", "")


def _environments(path: str, value: Any) -> list[str]:
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise MetadataError(
            f"environments: expected a non-empty list of names, got {value!r}", file=path
        )
    for item in items:
        if not isinstance(item, str) or not _ENV.match(item):
            raise MetadataError(f"environments: {item!r} is not an environment name", file=path)
    return list(dict.fromkeys(items))


def validate(raw: Mapping[str, Any], path: str, source: str) -> dict[str, Any]:
    """The normalised metadata; MetadataError naming the file and key otherwise."""
    unknown = sorted(str(k) for k in raw if k not in KEYS)
    if unknown:
        raise MetadataError(
            f"unknown metadata key(s) {', '.join(unknown)} (known: {', '.join(KEYS)})", file=path
        )
    out: dict[str, Any] = {}
    if "environments" in raw:
        out["environments"] = _environments(path, raw["environments"])
    if "risk" in raw:
        risk = raw["risk"]
        if risk not in RISKS:
            raise MetadataError(
                f"risk: expected one of {', '.join(RISKS)}, got {risk!r}", file=path
            )
        out["risk"] = risk
    if "owner" in raw:
        out["owner"] = _string(path, "owner", raw["owner"])
    for key in ("expected_runtime", "lock_timeout", "statement_timeout"):
        if key in raw:
            out[key] = _duration(path, key, raw[key])
    if "reconcile" in raw:
        try:
            checks = parse_checks(raw["reconcile"])
        except ValueError as exc:
            raise MetadataError(str(exc), file=path) from exc
        out["reconcile"] = [{"name": c.name, "sql": c.sql, "expect": c.expect} for c in checks]
    rollback = _rollback(raw, path)
    if rollback is not None:
        out["rollback"] = rollback
    if out:
        out["source"] = source
    return out


def _rollback(raw: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """``rollback`` with its companion key: ``rollback_file`` or ``reason``."""
    strategy = raw.get("rollback")
    if strategy is None:
        for key in ("rollback_file", "reason"):
            if key in raw:
                raise MetadataError(f"{key}: only allowed together with rollback", file=path)
        return None
    if strategy not in ROLLBACKS:
        raise MetadataError(
            f"rollback: expected one of {', '.join(ROLLBACKS)}, got {strategy!r}", file=path
        )
    out: dict[str, Any] = {"strategy": strategy, "file": None, "reason": None}
    if strategy == "compensating":
        out["file"] = _string(path, "rollback_file", raw.get("rollback_file"))
    elif "rollback_file" in raw:
        raise MetadataError("rollback_file: only allowed with rollback: compensating", file=path)
    if strategy == "none":
        out["reason"] = _string(path, "reason", raw.get("reason"))
    elif "reason" in raw:
        raise MetadataError("reason: only allowed with rollback: none", file=path)
    return out


def load_metadata(path: str, text: str, sidecar: bytes | None) -> dict[str, Any]:
    """Metadata of one migration from its sidecar bytes or its header block ({} if neither)."""
    header = header_block(text)
    if sidecar:
        if header is not None:
            raise MetadataError(
                "metadata is declared twice (sidecar and -- sqlgate:meta header); keep one",
                file=path,
            )
        try:
            decoded = sidecar.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError(f"sidecar metadata is not UTF-8: {exc}", file=path) from exc
        return validate(_load_yaml(decoded, path, "sidecar"), path, "sidecar")
    if header is None:
        return {}
    return validate(_load_yaml(header, path, "header"), path, "header")
