"""``--format text``: compiler-style findings a human reads in a CI log.

    V2__risky.sql:3:1: deny drop-table: dropping table "users" loses its data
        DROP TABLE users;
        ^
      help: rename it first and drop it in a later release

(a finding that names an approver role adds ``  needs approval by: security``),
then the impact preview (``impact:`` summary, one line per changing statement: objects,
static lock, catalog size), followed by one summary line with the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlgate_client.render import impact as _impact

FORMAT = "text"

_SUMMARY = {
    "allow": "allowed",
    "needs_approval": "needs approval",
    "deny": "denied",
}


def _source_line(sources: Mapping[str, str], path: str, line: int) -> str | None:
    text = sources.get(path)
    if text is None or line < 1:
        return None
    lines = text.splitlines()
    return lines[line - 1] if line <= len(lines) else None


def _marker(source: str, column: int) -> str:
    """Spaces (tabs kept, so the caret lines up) up to the 1-based column, then ``^``."""
    prefix = source[: max(column - 1, 0)]
    return "".join("\t" if ch == "\t" else " " for ch in prefix) + "^"


def render_finding(finding: Mapping[str, Any], sources: Mapping[str, str]) -> list[str]:
    where = finding.get("file") or "<policy>"
    line, column = int(finding.get("line") or 0), int(finding.get("column") or 0)
    if line:
        where += f":{line}:{column}" if column else f":{line}"
    out = [f"{where}: {finding['level']} {finding['rule']}: {finding['message']}"]
    source = _source_line(sources, str(finding.get("file") or ""), line)
    if source is not None:
        out.append(f"    {source}")
        out.append(f"    {_marker(source, column or 1)}")
    if finding.get("help"):
        out.append(f"  help: {finding['help']}")
    if finding.get("approver_role"):
        out.append(f"  needs approval by: {finding['approver_role']}")
    return out


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    lines: list[str] = []
    for finding in result["findings"]:
        lines.extend(render_finding(finding, sources))
    impact = list(result.get("impact") or [])
    if impact:
        lines.append(f"impact: {_impact.summary(impact)}")
        for e in impact:
            lock = e.get("lock") or "no lock on an existing table"
            lines.append(
                f"  {_impact.where(e)} {e.get('kind')}: {', '.join(e.get('objects') or []) or '-'}"
                f"; {lock}; {_impact.size(e)}"
                + (f"; {_impact.measured(e)}" if e.get("measured") else "")
            )
    decision = str(result["decision"])
    findings = result["findings"]
    counts = ", ".join(
        f"{sum(1 for f in findings if f['level'] == level)} {level}"
        for level in ("deny", "approval", "warn")
        if any(f["level"] == level for f in findings)
    )
    lines.append(
        f"sqlgate: {_SUMMARY.get(decision, decision)} ({decision}): "
        f"{result['statements']} statement(s), {len(findings)} finding(s)"
        + (f" [{counts}]" if counts else "")
        + f", policy {result['policy_digest']}"
    )
    return "\n".join(lines) + "\n"
