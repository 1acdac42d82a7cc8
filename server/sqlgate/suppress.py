"""``-- sqlgate:ignore`` comments: found here, applied by the policy (docs/suppressions.md).

Python only reads the comments and says which statements each one covers; it decides
nothing. The list goes into the policy input as ``suppressions`` and ``main.rego``
drops the findings they cover, reports the invalid, unused and not-allowed ones, and
only then computes the decision, so one piece of code decides, after suppression.

Syntax (one comment on its own line)::

    -- sqlgate:ignore rule-a, rule-b -- reason      (the whole next statement)
    -- sqlgate:ignore-file rule-a -- reason         (every statement of the file)

Each entry: ``{"anchor", "file", "line", "scope": "statement"|"file", "rules": [...],
"reason": str, "statements": [index, ...], "error": str|null}``. ``statements`` holds
every model statement of the covered SQL statement (an ALTER TABLE with several actions
yields several); ``error`` says why the comment is malformed (no reason, no rule, no
statement after it, inside a statement) and such an entry suppresses nothing; ``anchor``
is the statement a finding about the comment itself points at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from sqlgate.model import Statement

_DIRECTIVE = re.compile(r"^\s*--\s*sqlgate:(?P<kind>ignore-file|ignore)(?P<rest>(?:\s.*)?)$")
_RULE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _split(rest: str) -> tuple[list[str], str, str | None]:
    """``rule-a, rule-b -- reason`` → (rules, reason, error)."""
    rules_text, sep, reason = rest.partition(" -- ")
    if not sep and rest.strip().endswith("--"):
        rules_text, reason = rest.strip()[:-2], ""
    rules = [r for r in re.split(r"[,\s]+", rules_text.strip()) if r]
    reason = reason.strip()
    if not rules:
        return [], reason, "names no rule (expected: sqlgate:ignore rule-id -- reason)"
    bad = [r for r in rules if not _RULE.match(r)]
    if bad:
        return rules, reason, f"{', '.join(bad)} is not a rule id"
    if not reason:
        return rules, reason, "has no reason (expected: sqlgate:ignore rule-id -- reason)"
    return rules, reason, None


# More ``ignore-file`` comments in one file than this are refused (each covers every
# statement of the file, so thousands of them would make the policy input quadratic).
MAX_FILE_DIRECTIVES = 64


class _Lines:
    """Line lookups over one file's statements (in order), each O(log n): a file with a
    comment before each of 50k statements used to scan every statement per comment."""

    def __init__(self, statements: Sequence[Statement]) -> None:
        spans = sorted({(s.line, s.end_line) for s in statements})
        self.starts = [a for a, _ in spans]
        # Highest end line among the spans starting at or before each one.
        self.reach: list[int] = []
        for _, b in spans:
            self.reach.append(max(b, self.reach[-1]) if self.reach else b)
        self.by_line: dict[int, list[int]] = {}
        for s in statements:
            self.by_line.setdefault(s.line, []).append(s.index)
        self.lines = [s.line for s in statements]
        self.indexes = [s.index for s in statements]

    def inside(self, number: int) -> bool:
        """Whether line ``number`` lies within some statement's lines."""
        i = bisect.bisect_right(self.starts, number)
        return i > 0 and self.reach[i - 1] >= number

    def next_start(self, number: int) -> int | None:
        """The first line after ``number`` on which a statement starts."""
        i = bisect.bisect_right(self.starts, number)
        return self.starts[i] if i < len(self.starts) else None

    def anchor(self, number: int) -> int:
        """The statement a finding about the comment points at: the next one, else the last."""
        i = bisect.bisect_right(self.lines, number)
        if i < len(self.lines):
            return self.indexes[i]
        return self.indexes[-1] if self.indexes else 0


def find_suppressions(
    path: str, text: str, statements: Sequence[Statement]
) -> list[dict[str, Any]]:
    """Every ``sqlgate:ignore``/``ignore-file`` comment of one file (statements: that file's)."""
    mine = [s for s in statements if s.file == path]
    lines = _Lines(mine)
    out: list[dict[str, Any]] = []
    file_directives = 0
    for number, line in enumerate(text.split("\n"), start=1):
        m = _DIRECTIVE.match(line.rstrip("\r"))
        if m is None:
            continue
        scope = "file" if m.group("kind") == "ignore-file" else "statement"
        rules, reason, error = _split(m.group("rest"))
        covered: list[int] = []
        if error is None and lines.inside(number):
            error = "is inside a statement; put it on its own line before the statement"
        if error is None and scope == "file":
            file_directives += 1
            if file_directives > MAX_FILE_DIRECTIVES:
                error = (
                    f"is one of more than {MAX_FILE_DIRECTIVES} ignore-file comments in the file"
                )
            else:
                covered = [s.index for s in mine]
        elif error is None:
            after = lines.next_start(number)
            if after is None:
                error = "has no statement after it"
            else:
                covered = list(lines.by_line[after])
        anchor = covered[0] if covered else lines.anchor(number)
        out.append(
            {
                "anchor": anchor,
                "file": path,
                "line": number,
                "scope": scope,
                "rules": rules,
                "reason": reason,
                "statements": covered,
                "error": error,
            }
        )
    return out
