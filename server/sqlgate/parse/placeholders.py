"""Template placeholder expansion (Flyway ``${var}``, Go ``{{ .Var }}``, ``{$NAMESPACE}``).

Templates are expanded from supplied values before anything is lexed: reviewing the
raw template would review SQL that never runs. A placeholder without a value is a
PlaceholderError naming file, line and placeholder (fail closed). Values containing
newlines shift later line numbers; columns after a placeholder on its line shift by
the length difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlgate.errors import PlaceholderError

_PLACEHOLDER = re.compile(
    r"\$\{(?P<flyway>[^{}\n]*)\}"
    r"|\{\$(?P<phab>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|\{\{-?\s*(?P<go>.*?)\s*-?\}\}",
    re.DOTALL,
)


def _name(match: re.Match[str]) -> str:
    if match.group("flyway") is not None:
        return match.group("flyway").strip()
    if match.group("phab") is not None:
        return match.group("phab")
    return match.group("go").lstrip(".").strip()


def expand(text: str, variables: Mapping[str, str] | None, *, path: str) -> str:
    """``text`` with every placeholder replaced by its value; PlaceholderError if missing."""
    if "{" not in text:
        return text
    values = variables or {}

    def replace(match: re.Match[str]) -> str:
        name = _name(match)
        if name in values:
            return values[name]
        line = text.count("\n", 0, match.start()) + 1
        raise PlaceholderError(
            f"line {line}: template placeholder {match.group(0)!r} has no value "
            f"(supply it as variable {name!r})",
            file=path,
        )

    return _PLACEHOLDER.sub(replace, text)


def names(text: str) -> set[str]:
    """Every placeholder name in ``text`` (e.g. to ask the user for values)."""
    return {_name(m) for m in _PLACEHOLDER.finditer(text)}
