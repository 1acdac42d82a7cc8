"""The impact preview lines shared by the text and markdown renderers (stdlib only).

Each entry of a result's ``impact`` (see the server's ``sqlgate/impact.py``): the
objects a statement changes, its static lock and the catalog's size estimate of the
table. The summary line counts statements, tables, the strongest locks and the largest
table, so a reviewer sees the blast radius before approving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

STRONG = ("ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE")


def size(entry: Mapping[str, Any]) -> str:
    rows, nbytes = entry.get("table_rows"), entry.get("table_bytes")
    parts: list[str] = []
    if isinstance(rows, int):
        parts.append(f"~{rows:,} rows")
    if isinstance(nbytes, int):
        value, unit = float(nbytes), "B"
        for unit in ("B", "kB", "MB", "GB", "TB"):
            if value < 1024 or unit == "TB":
                break
            value /= 1024
        parts.append(f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}")
    return ", ".join(parts) or "unknown"


def where(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('file') or '?'}:{entry.get('line') or 0}"


def summary(impact: Sequence[Mapping[str, Any]]) -> str:
    tables = {
        o.split(" ", 1)[1]
        for e in impact
        for o in e.get("objects") or []
        if str(o).startswith("table ")
    }
    strong = sum(1 for e in impact if e.get("lock") in STRONG)
    line = f"{len(impact)} statement(s) change {len(tables)} table(s)"
    line += f"; {strong} take a lock that blocks writes (SHARE or stronger)"
    sized = [e for e in impact if isinstance(e.get("table_rows"), int)]
    if sized:
        big = max(sized, key=lambda e: int(e["table_rows"]))
        table = next(
            (
                str(o).split(" ", 1)[1]
                for o in big.get("objects") or []
                if str(o).startswith("table ")
            ),
            "?",
        )
        line += f"; largest table: {table} ({size(big)})"
    else:
        line += "; table sizes unknown (check with --catalog or a configured target)"
    return line


def measured(entry: Mapping[str, Any]) -> str:
    """``measured in staging (ev1): 412 ms, 0 rows; ACCESS EXCLUSIVE on orders 412 ms;
    rewrote orders`` — or ``not rehearsed``."""
    m = entry.get("measured")
    if not isinstance(m, Mapping):
        return "not rehearsed"
    rows = m.get("rows")
    text = f"measured in {m.get('environment')} ({m.get('evidence_id')}): "
    text += f"{float(m.get('duration_ms') or 0):.0f} ms"
    if isinstance(rows, int) and rows >= 0:
        text += f", {rows} rows"
    if m.get("locks"):
        text += "; " + ", ".join(str(x) for x in m["locks"])
    if m.get("rewrites"):
        text += "; rewrote " + ", ".join(str(x) for x in m["rewrites"])
    return text
