"""PostgreSQL: one pglast parse per file, boundary check against the splitter, model build.

The whole file is parsed once (cheap and exact). Each splitter segment must map to
exactly one statement of PostgreSQL's parse; a segment spanning two, or two segments in
one, is a boundary disagreement and is refused as ``unknown``. If the file does not
parse, each segment is parsed alone so one bad statement does not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pglast
from pglast.parser import ParseError

from sqlgate.model import Statement, Unknown
from sqlgate.parse import crosscheck, pg
from sqlgate.parse.split import Segment

CommonFn = Callable[[str, Segment], dict[str, Any]]
UntermFn = Callable[[str, Segment], "list[Statement] | None"]


def build(
    path: str, text: str, segments: list[Segment], common: CommonFn, unterminated: UntermFn
) -> list[list[Statement]]:
    try:
        raw = pglast.parse_sql(text)
    except ParseError:
        raw = None
    except RecursionError:
        raw = None
    out: list[list[Statement]] = []
    owner = _owners(raw, segments, len(text)) if raw is not None else None
    for i, seg in enumerate(segments):
        bad = unterminated(path, seg)
        if bad is not None:
            out.append(bad)
            continue
        c = common(path, seg)
        if owner is not None and raw is not None:
            j = owner[i]
            if j is None:
                reason = (
                    "statement boundary disagreement: PostgreSQL's grammar splits this text "
                    "differently"
                )
                out.append(
                    [Unknown(**c, reason=reason, detail="pglast: statement boundaries differ")]
                )
                continue
            node = raw[j].stmt
        else:
            try:
                one = pglast.parse_sql(seg.text)
            except ParseError as exc:
                out.append(
                    [
                        Unknown(
                            **c,
                            reason="PostgreSQL's grammar rejects this statement",
                            detail=f"pglast: {exc}",
                        )
                    ]
                )
                continue
            except RecursionError:
                out.append(
                    [Unknown(**c, reason="statement too deeply nested for PostgreSQL's parser")]
                )
                continue
            if len(one) != 1:
                reason = (
                    "statement boundary disagreement: PostgreSQL's grammar sees "
                    f"{len(one)} statements"
                )
                out.append([Unknown(**c, reason=reason)])
                continue
            node = one[0].stmt
        out.append(_checked(pg.build(node, c), c))
    return out


def _checked(stmts: list[Statement], c: dict[str, Any]) -> list[Statement]:
    """Refuse the statement if sqlglot classifies it differently (checked once per statement)."""
    if not stmts or stmts[0].kind == "unknown":
        return stmts
    why = crosscheck.disagreement(stmts[0])
    if why is None:
        return stmts
    return [
        Unknown(
            **c, reason="the PostgreSQL and sqlglot parsers disagree on this statement", detail=why
        )
    ]


def _owners(raw: Any, segments: list[Segment], n: int) -> list[int | None]:
    """For each segment, the index of the one pglast statement containing it, or None."""
    ranges = []
    for r in raw:
        start = r.stmt_location or 0
        ranges.append((start, start + r.stmt_len if r.stmt_len else n))
    owners: list[int | None] = []
    j = 0
    for seg in segments:
        while j < len(ranges) and ranges[j][1] <= seg.start:
            j += 1
        if j < len(ranges) and ranges[j][0] <= seg.start and seg.end <= ranges[j][1]:
            owners.append(j)
        else:
            owners.append(None)
    counts: dict[int, int] = {}
    for o in owners:
        if o is not None:
            counts[o] = counts.get(o, 0) + 1
    return [o if o is not None and counts[o] == 1 else None for o in owners]
