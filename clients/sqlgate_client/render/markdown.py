"""A pull-request comment: decision headline, findings by file, impact, suppressions.

GitHub refuses comment bodies over 65,536 characters, so the body is built
within ``LIMIT``: when the findings do not fit, the table stops and says how many
were left out (the SARIF or JSON output has them all). Cell text is escaped so a
message cannot break the table or inject HTML. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlgate_client.render import impact as _impact

FORMAT = "markdown"

LIMIT = 65_536
_TABLE_HEAD = "| line | level | rule | message |"
# Room kept for the truncation notes and the footer, which are always written.
_RESERVE = 2_000

HEADLINES: dict[str, str] = {
    "allow": "✅ **sqlgate: allowed**",
    "needs_approval": "⚠️ **sqlgate: needs approval**",
    "deny": "❌ **sqlgate: denied**",
}
LEVEL_LABELS: dict[str, str] = {"deny": "❌ deny", "approval": "⚠️ approval", "warn": "ℹ️ warn"}


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell (no pipes, newlines or raw HTML)."""
    text = str(value if value is not None else "")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _row(finding: Mapping[str, Any]) -> str:
    level = finding.get("level")
    if level not in LEVEL_LABELS:
        raise ValueError(f"finding {finding.get('rule')!r} has unknown level {level!r}")
    line = finding.get("line")
    where = f"{line}:{finding.get('column')}" if finding.get("column") else f"{line or ''}"
    message = cell(finding.get("message"))
    if finding.get("help"):
        message += "<br>💡 " + cell(finding["help"])
    return f"| {where} | {LEVEL_LABELS[str(level)]} | `{cell(finding.get('rule'))}` | {message} |"


def _by_file(findings: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for finding in findings:
        groups.setdefault(str(finding.get("file") or "(migration set)"), []).append(finding)
    for items in groups.values():
        items.sort(key=lambda f: (f.get("line") or 0, f.get("column") or 0))
    return dict(sorted(groups.items()))


def _counts(findings: list[Mapping[str, Any]]) -> str:
    counts = {level: 0 for level in LEVEL_LABELS}
    for finding in findings:
        level = str(finding.get("level"))
        if level not in counts:
            raise ValueError(f"finding {finding.get('rule')!r} has unknown level {level!r}")
        counts[level] += 1
    return ", ".join(f"{n} {level}" for level, n in counts.items())


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """The PR comment for one check result (``sources`` is unused)."""
    del sources
    decision = result.get("decision")
    if decision not in HEADLINES:
        raise ValueError(f"unknown decision {decision!r}")
    findings = list(result.get("findings") or [])
    suppressions = list(result.get("suppressions") or [])
    head = [
        f"### {HEADLINES[str(decision)]}",
        "",
        f"{len(findings)} finding(s) ({_counts(findings)}) in "
        f"{result.get('statements', 0)} statement(s); {len(suppressions)} suppressed.",
        "",
    ]
    footer = ["", "---", f"<sub>policy `{cell(result.get('policy_digest', 'unknown'))}`"]
    if result.get("verdict_id"):
        footer[-1] += f" · verdict `{cell(result['verdict_id'])}`"
    footer[-1] += "</sub>"

    budget = LIMIT - _RESERVE - sum(len(x) + 1 for x in head + footer)
    body: list[str] = []
    used = 0

    def add(line: str) -> bool:
        nonlocal used
        if used + len(line) + 1 > budget:
            return False
        body.append(line)
        used += len(line) + 1
        return True

    shown = 0
    full = True
    for path, items in _by_file(findings).items():
        header = [f"#### `{cell(path)}`", "", _TABLE_HEAD, "|---|---|---|---|"]
        # A file header is only written if its first row fits too.
        if used + sum(len(x) + 1 for x in header) + len(_row(items[0])) + 1 > budget:
            full = False
            break
        for line in header:
            add(line)
        for finding in items:
            if not add(_row(finding)):
                full = False
                break
            shown += 1
        if not full:
            break
        add("")
    if not full:
        body.append("")
        body.append(
            f"> **{len(findings) - shown} more finding(s) not shown** (comment size limit); "
            "see the SARIF or JSON output for the full list."
        )
        body.append("")

    impact = list(result.get("impact") or [])
    if impact:
        add("#### Impact")
        add("")
        add(f"**{cell(_impact.summary(impact))}.**")
        add("")
        add("| statement | changes | lock (static) | table size (catalog) | measured (rehearsal) |")
        add("|---|---|---|---|---|")
        listed = 0
        for e in impact:
            row = (
                f"| `{cell(_impact.where(e))}` {cell(e.get('kind'))} | "
                f"{cell(', '.join(e.get('objects') or []) or '-')} | "
                f"{cell(e.get('lock') or '-')} | {cell(_impact.size(e))} | "
                f"{cell(_impact.measured(e))} |"
            )
            if not add(row):
                break
            listed += 1
        if listed < len(impact):
            body.append(f"| … | {len(impact) - listed} more statement(s) not shown | | | |")
        body.append("")

    if suppressions:
        body.append("<details><summary>Suppressed findings</summary>")
        body.append("")
        listed = 0
        for item in suppressions:
            entry = (
                f"- `{cell(item.get('rule'))}` at {cell(item.get('file'))}:{cell(item.get('line'))}"
                f" ({cell(item.get('scope', 'statement'))}): {cell(item.get('reason'))}"
            )
            if not add(entry):
                break
            listed += 1
        if listed < len(suppressions):
            body.append(f"- … and {len(suppressions) - listed} more suppression(s) not shown")
        body.append("")
        body.append("</details>")
    return "\n".join(head + body + footer) + "\n"
