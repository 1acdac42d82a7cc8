"""Verdict/token bindings for tests that build verdicts or tokens by hand.

``binding_for`` binds digests only (no statement spans): enough for the trust and
execution use cases, and a runner refuses it for real files (the spans differ).
``binding_of_files`` is what a real review binds for those bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlgate.binding import build_binding
from sqlgate_client.trust.binding import LEXING_SETTINGS


def binding_for(digests: Mapping[str, str], *, dialect: str = "postgres") -> dict[str, Any]:
    return {
        "version": 1,
        "dialect": dialect,
        "server_version": None,
        "files": [
            {"path": p, "sha256": d, "expanded_sha256": d, "spans": []}
            for p, d in sorted(digests.items())
        ],
        "settings": dict(LEXING_SETTINGS),
        "target_identity": None,
    }


def binding_of_files(
    files: Mapping[str, bytes], *, variables: Mapping[str, str] | None = None, **kw: Any
) -> dict[str, Any]:
    return build_binding(
        list(files.items()),
        dialect=kw.pop("dialect", "postgres"),
        variables=variables or {},
        server_version=kw.pop("server_version", None),
        target_identity=kw.pop("target_identity", None),
    ).to_json()
