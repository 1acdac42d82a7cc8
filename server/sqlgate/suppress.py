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


def _spans(statements: Sequence[Statement]) -> list[tuple[int, int]]:
    return sorted({(s.line, s.end_line) for s in statements})


def _anchor(statements: Sequence[Statement], line: int) -> int:
    """The statement a finding about the comment points at: the next one, else the last."""
    after = [s.index for s in statements if s.line > line]
    if after:
        return after[0]
    return statements[-1].index if statements else 0


def find_suppressions(
    path: str, text: str, statements: Sequence[Statement]
) -> list[dict[str, Any]]:
    """Every ``sqlgate:ignore``/``ignore-file`` comment of one file (statements: that file's)."""
    mine = [s for s in statements if s.file == path]
    spans = _spans(mine)
    out: list[dict[str, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        m = _DIRECTIVE.match(line.rstrip("\r"))
        if m is None:
            continue
        scope = "file" if m.group("kind") == "ignore-file" else "statement"
        rules, reason, error = _split(m.group("rest"))
        covered: list[int] = []
        if error is None and any(a <= number <= b for a, b in spans):
            error = "is inside a statement; put it on its own line before the statement"
        if error is None and scope == "file":
            covered = [s.index for s in mine]
        elif error is None:
            after = [a for a, _ in spans if a > number]
            if not after:
                error = "has no statement after it"
            else:
                covered = [s.index for s in mine if s.line == after[0]]
        anchor = covered[0] if covered else _anchor(mine, number)
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
