"""What a verdict binds besides the file digests: how the reviewed bytes become statements.

The invariant (docs/invariant.md): what is executed is byte for byte and statement for
statement what was reviewed, under the settings the review assumed. A file digest alone
does not say that: the same bytes split under other lexer settings, expanded with other
template values, applied in another order, read as another dialect or applied to another
database run other statements. So the signed verdict carries a *binding* and every
execution token copies it:

* ``dialect`` (and ``server_version``, the one the review assumed, when known);
* ``files``, in the order reviewed: path, sha256 of the exact bytes, sha256 of the bytes
  after template expansion (UTF-8, BOM removed: the text that was split), and the
  statement ``spans`` — byte offsets ``[start, end)`` into those expanded bytes, exactly
  as the reviewer's splitter cut them;
* ``settings``: the lexer-relevant session settings the review assumed;
* ``target_identity``: for a target the server reads through a DSN, the PostgreSQL
  system identifier and database name it found there (None otherwise).

The runner executes those spans, one per protocol message, after checking that its own
expansion hashes the same and that its own splitter cuts the same spans (a cross-check:
any disagreement refuses).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlgate_client.errors import ClaimError
from sqlgate_client.trust.strictjson import dumps_canonical

BINDING_VERSION: Final = 1
# What the reviewer's lexer assumes (PostgreSQL's defaults); the runner pins these.
LEXING_SETTINGS: Final[Mapping[str, str]] = {
    "standard_conforming_strings": "on",
    "backslash_quote": "safe_encoding",
    "escape_string_warning": "on",
}
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELDS: Final = frozenset(
    {"version", "dialect", "server_version", "files", "settings", "target_identity"}
)
_FILE_FIELDS: Final = frozenset({"path", "sha256", "expanded_sha256", "spans"})


@dataclass(frozen=True)
class FileBinding:
    """One reviewed file: its bytes, its expanded bytes and the statement spans in them."""

    path: str
    sha256: str
    expanded_sha256: str
    spans: tuple[tuple[int, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "expanded_sha256": self.expanded_sha256,
            "spans": [[start, end] for start, end in self.spans],
        }


@dataclass(frozen=True)
class TargetIdentity:
    """Which database a target is: PostgreSQL's system identifier and the database name."""

    system_identifier: str
    database: str

    def to_json(self) -> dict[str, str]:
        return {"system_identifier": self.system_identifier, "database": self.database}


@dataclass(frozen=True)
class Binding:
    dialect: str
    server_version: str | None
    files: tuple[FileBinding, ...]
    settings: Mapping[str, str]
    target_identity: TargetIdentity | None = None

    @property
    def order(self) -> list[str]:
        return [f.path for f in self.files]

    def file(self, path: str) -> FileBinding:
        for f in self.files:
            if f.path == path:
                return f
        raise ClaimError(f"binding: no file {path!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "version": BINDING_VERSION,
            "dialect": self.dialect,
            "server_version": self.server_version,
            "files": [f.to_json() for f in self.files],
            "settings": dict(sorted(self.settings.items())),
            "target_identity": (
                self.target_identity.to_json() if self.target_identity is not None else None
            ),
        }

    def digest(self) -> str:
        return hashlib.sha256(dumps_canonical(self.to_json())).hexdigest()


def _text(value: Any, what: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ClaimError(f"binding: {what} must be a non-empty string")
    return value


def _spans(raw: Any, what: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(raw, list):
        raise ClaimError(f"binding: {what} must be a list of [start, end] byte offsets")
    out: list[tuple[int, int]] = []
    previous = 0
    for span in raw:
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(type(v) is int for v in span)
            or not previous <= span[0] < span[1]
        ):
            raise ClaimError(f"binding: {what} must be increasing, non-overlapping [start, end]")
        previous = span[1]
        out.append((span[0], span[1]))
    return tuple(out)


def parse_binding(raw: Any) -> Binding:
    """A binding from its JSON form, every field checked; ClaimError otherwise."""
    if not isinstance(raw, dict) or set(raw) != _FIELDS:
        present = set(raw) if isinstance(raw, dict) else set()
        raise ClaimError(
            f"binding fields: missing {sorted(_FIELDS - present)}, "
            f"unexpected {sorted(present - _FIELDS)}"
        )
    if raw["version"] != BINDING_VERSION or type(raw["version"]) is not int:
        raise ClaimError(f"binding version {raw['version']!r} is not {BINDING_VERSION}")
    files_raw = raw["files"]
    if not isinstance(files_raw, list) or not files_raw:
        raise ClaimError("binding: files must be a non-empty list")
    files: list[FileBinding] = []
    seen: set[str] = set()
    for i, f in enumerate(files_raw):
        if not isinstance(f, dict) or set(f) != _FILE_FIELDS:
            raise ClaimError(f"binding: file {i} must have exactly {sorted(_FILE_FIELDS)}")
        path = _text(f["path"], f"files[{i}].path")
        if path in seen:
            raise ClaimError(f"binding: file {path!r} appears twice")
        seen.add(path)
        for name in ("sha256", "expanded_sha256"):
            if not isinstance(f[name], str) or not _SHA256.fullmatch(f[name]):
                raise ClaimError(f"binding: files[{i}].{name} must be a sha256 hex digest")
        files.append(FileBinding(path, f["sha256"], f["expanded_sha256"], _spans(f["spans"], path)))
    settings = raw["settings"]
    if not isinstance(settings, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in settings.items()
    ):
        raise ClaimError("binding: settings must map setting names to values")
    identity_raw = raw["target_identity"]
    identity: TargetIdentity | None = None
    if identity_raw is not None:
        if not isinstance(identity_raw, dict) or set(identity_raw) != {
            "system_identifier",
            "database",
        }:
            raise ClaimError("binding: target_identity must be {system_identifier, database}")
        identity = TargetIdentity(
            _text(identity_raw["system_identifier"], "target_identity.system_identifier"),
            _text(identity_raw["database"], "target_identity.database"),
        )
    return Binding(
        dialect=_text(raw["dialect"], "dialect"),
        server_version=_text(raw["server_version"], "server_version", optional=True),
        files=tuple(files),
        settings=dict(settings),
        target_identity=identity,
    )


def byte_spans(text: str, char_spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character offsets into ``text`` as byte offsets into ``text.encode('utf-8')``.

    One pass over the text, whatever the number of spans (offsets must be increasing).
    """
    out: list[tuple[int, int]] = []
    position = 0  # character offset reached
    offset = 0  # its byte offset
    for start, end in char_spans:
        offset += len(text[position:start].encode("utf-8"))
        byte_start = offset
        offset += len(text[start:end].encode("utf-8"))
        position = end
        out.append((byte_start, offset))
    return out


def expanded_digest(text: str) -> str:
    """sha256 of the expanded, BOM-less text as UTF-8: what ``expanded_sha256`` records."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
