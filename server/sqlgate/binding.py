"""The verdict's binding (``sqlgate_client.trust.binding``), computed from a review request.

Spans come from the same expansion and the same splitter the parse used
(``sqlgate.parse``: ``expand`` then ``split``; PostgreSQL's own grammar cross-checks
those boundaries there), so the runner executes exactly the statements that were
reviewed. Expansion and splitting are deterministic and cheap next to the parse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Literal

from sqlgate_client.toolformat import up_section
from sqlgate_client.trust.binding import (
    LEXING_SETTINGS,
    Binding,
    FileBinding,
    TargetIdentity,
    byte_spans,
    expanded_digest,
)

from sqlgate.parse.placeholders import expand
from sqlgate.parse.source import SourceFile, decode
from sqlgate.parse.split import split


def file_binding(
    path: str, content: bytes, dialect: Literal["postgres", "mysql"], variables: Mapping[str, str]
) -> FileBinding:
    """One file's digests and statement spans (byte offsets into the expanded text).

    A goose/dbmate/sql-migrate file's text is its Up section (sqlgate_client.toolformat),
    as the parse and the runner read it."""
    text = expand(up_section(decode(SourceFile(path, content))).text, variables, path=path)
    segments = split(text, dialect)
    return FileBinding(
        path=path,
        sha256=hashlib.sha256(content).hexdigest(),
        expanded_sha256=expanded_digest(text),
        spans=tuple(byte_spans(text, [(s.start, s.end) for s in segments])),
    )


def build_binding(
    files: Sequence[tuple[str, bytes]],
    *,
    dialect: Literal["postgres", "mysql"],
    variables: Mapping[str, str],
    server_version: str | None,
    target_identity: TargetIdentity | None,
) -> Binding:
    """The binding of a reviewed set, files in the order they were reviewed."""
    return Binding(
        dialect=dialect,
        server_version=server_version or None,
        files=tuple(file_binding(p, c, dialect, variables) for p, c in files),
        settings=dict(LEXING_SETTINGS),
        target_identity=target_identity,
    )
