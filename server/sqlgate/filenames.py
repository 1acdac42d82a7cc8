"""File names as they arrive in requests: relative, clean, printable — or refused.

A migration's name is shown to reviewers, signed into the verdict and matched by the
runner. A name with NUL or control characters can hide or forge text in a terminal,
log or PR comment; a ``..`` component or an absolute path names a file outside the
repository the review was about. Such names are refused (InputError: INVALID_ARGUMENT,
CLI exit 2) wherever names arrive: Check (migrations, rollback files), RedeemToken
digests and execution reports.
"""

from __future__ import annotations

import re
import unicodedata

from sqlgate.errors import InputError

MAX_NAME_CHARS = 1024
# Bidirectional controls reorder what a reviewer sees ("Trojan Source"); they are
# format (Cf) characters, not control (Cc) ones, so they are named here.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DRIVE = re.compile(r"^[A-Za-z]:")


def file_name_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable migration file name, or None if it is."""
    if not name:
        return "is empty"
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters"
    for char in name:
        if char in _BIDI or unicodedata.category(char) == "Cc":
            return f"contains the control character U+{ord(char):04X}"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "is an absolute path (send paths relative to the repository)"
    if ".." in re.split(r"[/\\]", name):
        return "has a '..' component (send paths inside the repository)"
    return None


def check_file_name(name: str, what: str = "file name") -> None:
    """InputError naming the problem when ``name`` is not acceptable (see the module doc)."""
    problem = file_name_problem(name)
    if problem is not None:
        raise InputError(f"{what} {name[:200]!r} {problem}")
