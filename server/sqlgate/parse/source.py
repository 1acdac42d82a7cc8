"""Inputs and outputs of parsing: source files, limits, the parsed set; decoding.

Decoding is strict on purpose: a file that is not UTF-8 (an optional BOM aside) is
refused, never read "with replacement", because replaced bytes are not what runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlgate.errors import EncodingError
from sqlgate.model import Statement

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SourceFile:
    """One migration file: the path as submitted and its exact bytes."""

    path: str
    content: bytes


@dataclass(frozen=True)
class Limits:
    """Refuse oversized or pathological input before any parser sees it."""

    max_file_bytes: int = 4 * 1024 * 1024
    max_total_bytes: int = 32 * 1024 * 1024
    max_files: int = 2000
    max_statements: int = 50_000
    max_nesting: int = 200


@dataclass(frozen=True)
class FileInfo:
    path: str
    sha256: str
    statements: int


@dataclass(frozen=True)
class ParsedSet:
    """The ordered statements of a migration set (``index`` set) and per-file info."""

    statements: list[Statement]
    statement_count: int
    files: list[FileInfo] = field(default_factory=list)


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def decode(file: SourceFile) -> str:
    """UTF-8 text of the file, BOM stripped; EncodingError naming the file otherwise."""
    data = file.content[3:] if file.content.startswith(_BOM) else file.content
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingError(
            f"line {line}: byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid "
            "UTF-8 (only UTF-8, with an optional BOM, is accepted)",
            file=file.path,
        ) from exc
    if "\x00" in text:
        raise EncodingError("NUL character in file: not a text migration", file=file.path)
    return text
