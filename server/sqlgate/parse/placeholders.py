"""Template placeholder expansion (Flyway ``${var}``, Go ``{{ .Var }}``, ``{$NAMESPACE}``).

Templates are expanded from supplied values before anything is lexed: reviewing the
raw template would review SQL that never runs. A placeholder without a value is a
PlaceholderError naming file, line and placeholder (fail closed). Values containing
newlines shift later line numbers; columns after a placeholder on its line shift by
the length difference. The expansion itself is ``sqlgate_client.templates``: the
runner expands with the same code and checks the digest the verdict binds.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlgate_client.templates import PLACEHOLDER, MissingValue, placeholder_name
from sqlgate_client.templates import expand as _expand
from sqlgate_client.templates import names as _names

from sqlgate.errors import PlaceholderError


def expand(text: str, variables: Mapping[str, str] | None, *, path: str) -> str:
    """``text`` with every placeholder replaced by its value; PlaceholderError if missing."""
    try:
        return _expand(text, variables)
    except MissingValue as exc:
        raise PlaceholderError(
            f"line {exc.line}: template placeholder {exc.placeholder!r} has no value "
            f"(supply it as variable {exc.name!r})",
            file=path,
        ) from None


def expanded_bytes(text: str, variables: Mapping[str, str] | None) -> int:
    """UTF-8 size of ``text`` once expanded, computed without building it (placeholders
    without a value count as they are; ``expand`` refuses them).

    Lets limits refuse before expanding: ``${a}`` thirty times with a 1 MB value would
    otherwise build a 30 MB string (and every copy made of it afterwards) first.
    """
    size = len(text.encode("utf-8"))
    if "{" not in text or not variables:
        return size
    for match in PLACEHOLDER.finditer(text):
        value = variables.get(placeholder_name(match))
        if value is not None:
            size += len(value.encode("utf-8")) - len(match.group(0).encode("utf-8"))
    return size


def names(text: str) -> set[str]:
    """Every placeholder name in ``text`` (e.g. to ask the user for values)."""
    return _names(text)
