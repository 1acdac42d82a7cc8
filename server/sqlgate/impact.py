"""The impact preview of a check: per statement, what it changes and what it locks.

For a reviewer before approving: the objects a statement changes (its table, the
column, index or constraint it names), the lock PostgreSQL takes for it on an existing
table (``facts.lock``, static: from the docs, not measured) and the estimated size of
that table from the catalog (``facts.table_rows``/``table_bytes``; null without a
catalog). Statements that change nothing (SELECT, SET, transaction control) are left
out. Where a rehearsal of exactly these files was recorded (``input.evidence``),
``measured`` carries its figures for the statement: duration, rows, the locks held (mode,
relation, hold time) and the relations rewritten, with the evidence id and environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_NO_CHANGE = frozenset({"select", "set", "begin", "commit", "rollback", "savepoint", "comment"})
_CONSTRAINT_KINDS = ("constraint", "foreign_key", "primary_key", "unique", "check")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        return [str(value["name"])]
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def objects_of(s: Mapping[str, Any]) -> list[str]:
    """``["table orders", "column orders.total", "index orders_total"]`` for one statement."""
    kind = str(s.get("kind") or "")
    table = s.get("table") if isinstance(s.get("table"), str) else None
    out: list[str] = [f"table {table}"] if table else []
    for col in _names(s.get("column")):
        out.append(f"column {table}.{col}" if table else f"column {col}")
    if kind == "create_table":
        out.extend(f"column {table}.{c}" for c in _names(s.get("columns")))
    names = _names(s.get("name")) + _names(s.get("names"))
    if "index" in kind:
        out.extend(f"index {n}" for n in names)
    elif any(k in kind for k in _CONSTRAINT_KINDS):
        out.extend(f"constraint {n}" for n in names)
    elif names and not table:
        out.extend(f"{kind.split('_', 1)[-1]} {n}" for n in names)
    return list(dict.fromkeys(out))


def _measured(evidence: Sequence[Mapping[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (file, line): the latest rehearsal's figures for that statement."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for e in evidence:  # oldest first: a later rehearsal overwrites an earlier one
        if e.get("kind") != "rehearsal":
            continue
        for st in e.get("statements") or []:
            locks = [
                f"{lk.get('mode')} on {lk.get('relation')} {float(lk.get('held_ms') or 0):.0f} ms"
                for lk in st.get("locks") or []
                if not lk.get("created")
            ]
            out[(str(st.get("file")), int(st.get("line") or 0))] = {
                "evidence_id": str(e.get("evidence_id") or ""),
                "environment": str(e.get("environment") or ""),
                "duration_ms": float(st.get("duration_ms") or 0.0),
                "rows": int(st.get("rows") if isinstance(st.get("rows"), int) else -1),
                "locks": locks,
                "rewrites": [str(w.get("relation")) for w in st.get("rewrites") or []],
            }
    return out


def impact_of(
    statements: Sequence[Mapping[str, Any]], evidence: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """One entry per statement that changes something (see module docstring); with
    rehearsal evidence for these files, ``measured`` holds the latest rehearsal's figures."""
    measured = _measured(evidence)
    out: list[dict[str, Any]] = []
    for s in statements:
        kind = str(s.get("kind") or "unknown")
        if kind in _NO_CHANGE:
            continue
        facts = s.get("facts") if isinstance(s.get("facts"), Mapping) else {}
        assert isinstance(facts, Mapping)
        rows, size = facts.get("table_rows"), facts.get("table_bytes")
        out.append(
            {
                "file": str(s.get("file") or ""),
                "line": int(s.get("line") or 0),
                "kind": kind,
                "objects": objects_of(s),
                "lock": facts.get("lock") if isinstance(facts.get("lock"), str) else None,
                "table_rows": rows if isinstance(rows, int) else None,
                "table_bytes": size if isinstance(size, int) else None,
                "measured": measured.get((str(s.get("file") or ""), int(s.get("line") or 0))),
            }
        )
    return out
