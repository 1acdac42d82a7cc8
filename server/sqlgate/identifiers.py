"""Unicode facts about the identifiers a statement names (``facts.identifiers``).

A table called ``usеrs`` with a Cyrillic ``е`` looks exactly like ``users`` in review but is
another object; a zero-width or bidi control character hides or reorders what the reviewer
reads. Rego has no Unicode database, so the facts are computed here and the
``identifier-confusable`` rule only compares them.

Per identifier: ``name``, ``nfc`` (the name equals its NFC normal form), ``scripts`` (the
sorted scripts of its letters; digits, ``_`` and other common characters have none) and
``invisible`` (it contains a format/control character — zero-width, bidi control, BOM,
soft hyphen — a non-ASCII space or a Hangul filler). The script of a letter is the first
word of its Unicode name (``LATIN``, ``CYRILLIC``, ``GREEK``, ``CJK``...), which is what
UTS #39's mixed-script check needs at this grain without a third-party script table.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from sqlgate.model import Statement

# Statement fields that hold identifiers (strings, lists of strings, or column objects).
_FIELDS = (
    "table",
    "tables",
    "name",
    "names",
    "new_name",
    "column",
    "columns",
    "ref_table",
    "ref_columns",
    "objects",
    "grantees",
    "type",
)
# Kinds whose `name` / `type` is not an identifier the migration creates or targets.
_NOT_IDENT = {"set": ("name",), "alter_system": ("name",), "alter_column_type": ("type",)}
# Invisible letters (category Lo) that render as nothing.
_INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0"}
# Name prefixes that are not the script itself: CJK ideographs are Han, the prolonged sound
# mark is shared by both kana (Common), halfwidth forms belong to their script.
_ALIASES: dict[str, str | None] = {"CJK": "HAN", "KATAKANA-HIRAGANA": None}


def script_of(ch: str) -> str | None:
    """The script of a letter (first word of its Unicode name), None for non-letters."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    words = unicodedata.name(ch, "UNKNOWN").split(" ")
    if words[0] == "HALFWIDTH" and len(words) > 1:
        return words[1]
    return _ALIASES.get(words[0], words[0])


def is_invisible(ch: str) -> bool:
    """Format/control characters, non-ASCII spaces and fillers: nothing a reviewer sees."""
    cat = unicodedata.category(ch)
    if cat == "Zs":
        return ch != " "
    return cat in ("Cf", "Cc", "Co", "Cn") or ch in _INVISIBLE_LETTERS


def identifier_fact(name: str) -> dict[str, Any]:
    """``{name, nfc, scripts, invisible}`` for one identifier."""
    nfc, scripts, invisible = _classify(name)
    return {"name": name, "nfc": nfc, "scripts": list(scripts), "invisible": invisible}


@functools.lru_cache(maxsize=65536)
def _classify(name: str) -> tuple[bool, tuple[str, ...], bool]:
    """(nfc, scripts, invisible); cached because a set names the same tables again and again."""
    if name.isascii():
        # Fast path, same answers as below: ASCII is NFC, its letters are LATIN, and only
        # its control characters (Cc) are invisible.
        latin = ("LATIN",) if any(ch.isalpha() for ch in name) else ()
        return True, latin, any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    return _classify_unicode(name)


def _classify_unicode(name: str) -> tuple[bool, tuple[str, ...], bool]:
    """The general path, from the Unicode database (tests check the fast path against it)."""
    scripts = sorted({s for ch in name if not is_invisible(ch) and (s := script_of(ch))})
    return (
        unicodedata.normalize("NFC", name) == name,
        tuple(scripts),
        any(is_invisible(ch) for ch in name),
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        if isinstance(value.get("name"), str):
            yield value["name"]
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def identifiers_of(statement: Statement) -> list[dict[str, Any]]:
    """Facts for every distinct identifier the statement names (qualified names split)."""
    doc = statement.to_json()
    skip = _NOT_IDENT.get(statement.kind, ())
    seen: list[str] = []
    for key in _FIELDS:
        if key in skip or key not in doc:
            continue
        for text in _strings(doc[key]):
            for part in text.split("."):
                if part and part not in seen:
                    seen.append(part)
    return [identifier_fact(n) for n in seen]
