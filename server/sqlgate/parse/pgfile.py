"""PostgreSQL: one pglast parse per file, boundary check against the splitter, model build.

The whole file is parsed once (cheap and exact). Each splitter segment must map to
exactly one statement of PostgreSQL's parse; a segment spanning two, or two segments in
one, is a boundary disagreement and is refused as ``unknown``. If the file does not
parse, each segment is parsed alone so one bad statement does not hide the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pglast import ast
from pglast.parser import ParseError
from pglast.parser import parse_sql as _pglast_parse_sql

from sqlgate.model import Statement, Unknown
from sqlgate.parse import crosscheck, pg
from sqlgate.parse.split import Segment

CommonFn = Callable[[str, Segment], dict[str, Any]]
UntermFn = Callable[[str, Segment], "list[Statement] | None"]


def build(
    path: str, text: str, segments: list[Segment], common: CommonFn, unterminated: UntermFn
) -> list[list[Statement]]:
    try:
        raw = parse_sql(text)
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
                one = parse_sql(seg.text)
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
        try:
            out.append(_checked(pg.build(node, c), c))
        except RecursionError:  # e.g. a deparsed DEFAULT of ARRAY[[[...]]] thousands deep
            out.append([Unknown(**c, reason="statement too deeply nested for sqlgate's model")])
        except Exception as exc:  # noqa: BLE001 - an odd tree must refuse, not crash the review
            reason = "sqlgate cannot model this PostgreSQL statement"
            out.append([Unknown(**c, reason=reason, detail=repr(exc)[:500])])
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


# pglast's Cython parser builds every node through ``ast.Node.__setattr__``, which
# re-validates and re-adapts each attribute in Python (an import, isinstance checks, enum
# lookups): about half of a cold parse. The values the parser passes are already of the
# declared types (enums, bools, one-char strings, tuples of nodes) — except the raw int it
# gives ``Boolean`` inside ``A_Const`` (pglast 8.7's ast.pyx) — so while a parse runs
# ``object.__setattr__`` is used, and ``Boolean`` alone keeps the validating one.
# The swap is reference-counted under a lock so concurrent parses (gRPC threads) overlap
# safely; nothing else in sqlgate builds pglast nodes. tests/parse/test_pgfile_parse.py
# checks the trees equal pglast's validated ones.
class _TrustParserNodes:
    """Reference-counted swap of ``ast.Node.__setattr__`` for the duration of parses."""

    def __init__(self) -> None:
        self._validated = ast.Node.__setattr__
        self._lock = threading.Lock()
        self._depth = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                ast.Node.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
                ast.Boolean.__setattr__ = self._validated  # type: ignore[method-assign]
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    ast.Node.__setattr__ = self._validated  # type: ignore[method-assign]
                    del ast.Boolean.__setattr__


_parser_built_nodes = _TrustParserNodes()


def parse_sql(text: str) -> tuple[Any, ...]:
    """``pglast.parse_sql`` (same tree, same errors) without per-attribute re-validation."""
    with _parser_built_nodes():
        return tuple(_pglast_parse_sql(text))
