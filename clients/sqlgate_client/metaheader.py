"""The ``-- sqlgate:meta`` header block and the reconciliation checks it may declare.

Shared by both sides (stdlib + PyYAML only): the server validates metadata at review
time (``sqlgate/metadata.py``), and ``sqlgate-runner rehearse`` reads the same
``reconcile`` checks from the same sidecar or header, so one parser decides what a
check means on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

_HEADER = re.compile(r"^\s*--\s*sqlgate:meta\s*$")
# A ``-- key: value`` line or a ``--   - item`` list line; anything else ends the block.
_HEADER_LINE = re.compile(r"^\s*--\s?(?P<body>[A-Za-z_][\w-]*\s*:.*|\s+-\s.*)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Expect = Literal["unchanged", "zero rows"]
EXPECTS: tuple[Expect, ...] = ("unchanged", "zero rows")


def header_block(text: str) -> str | None:
    """The YAML of a ``-- sqlgate:meta`` block at the top of the file, or None.

    The block starts at the first non-blank line (a leading BOM is already stripped)
    and runs over the ``-- key: value`` comment lines that follow it.
    """
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines) or not _HEADER.match(lines[i].rstrip("\r")):
        return None
    body: list[str] = []
    for raw in lines[i + 1 :]:
        m = _HEADER_LINE.match(raw.rstrip("\r"))
        if m is None:
            break
        body.append(m.group("body"))
    return "\n".join(body)


@dataclass(frozen=True)
class Check:
    """A reconciliation query: its result must stay the same, or it must return nothing.

    ``unchanged`` covers row counts, column checksums and aggregates alike: the query's
    whole result before the migration must equal the result after it (and after a
    backfill, and after the rollback). ``zero rows`` is an invariant (orphans, NULLs
    where none may be) that must hold whenever it is checked.
    """

    name: str
    sql: str
    expect: Expect


def parse_checks(value: Any) -> list[Check]:
    """The ``reconcile`` list; ValueError with the reason when it is malformed."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"reconcile: expected a non-empty list of checks, got {value!r}")
    checks: list[Check] = []
    for i, item in enumerate(value):
        where = f"reconcile[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a mapping with name, sql, expect")
        unknown = sorted(str(k) for k in item if k not in ("name", "sql", "expect"))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
        name, query, expect = item.get("name"), item.get("sql"), item.get("expect")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"{where}.name: expected a name like orders-count, got {name!r}")
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"{where}.sql: expected a non-empty query")
        if expect not in EXPECTS:
            raise ValueError(
                f"{where}.expect: expected one of {', '.join(EXPECTS)}, got {expect!r}"
            )
        if any(c.name == name for c in checks):
            raise ValueError(f"{where}.name: {name!r} is declared twice")
        checks.append(Check(name, query.strip().rstrip(";").strip(), expect))
    return checks
