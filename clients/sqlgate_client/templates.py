"""Template placeholders (Flyway ``${var}``, Go ``{{ .Var }}``, ``{$NAMESPACE}``): one
implementation for the reviewer and the runner.

The reviewer expands placeholders from supplied values before it lexes anything; the
runner must execute exactly that expansion, so it expands with the values it is given
and compares the result's digest with the one the verdict binds. Both sides use this
module, so "the same values" means "the same bytes".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(
    r"\$\{(?P<flyway>[^{}\n]*)\}"
    r"|\{\$(?P<phab>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|\{\{-?\s*(?P<go>.*?)\s*-?\}\}",
    re.DOTALL,
)


class MissingValue(KeyError):
    """A placeholder without a value: ``name`` and the 1-based ``line`` it is on."""

    def __init__(self, name: str, placeholder: str, line: int) -> None:
        super().__init__(name)
        self.name = name
        self.placeholder = placeholder
        self.line = line


def placeholder_name(match: re.Match[str]) -> str:
    if match.group("flyway") is not None:
        return match.group("flyway").strip()
    if match.group("phab") is not None:
        return match.group("phab")
    return match.group("go").lstrip(".").strip()


def expand(text: str, values: Mapping[str, str] | None) -> str:
    """``text`` with every placeholder replaced by its value; MissingValue if one has none."""
    if "{" not in text:
        return text
    known = values or {}

    def replace(match: re.Match[str]) -> str:
        name = placeholder_name(match)
        if name in known:
            return known[name]
        line = text.count("\n", 0, match.start()) + 1
        raise MissingValue(name, match.group(0), line)

    return PLACEHOLDER.sub(replace, text)


def names(text: str) -> set[str]:
    """Every placeholder name in ``text``."""
    return {placeholder_name(m) for m in PLACEHOLDER.finditer(text)}
