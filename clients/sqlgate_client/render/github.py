"""GitHub Actions workflow commands: one annotation per finding, then a summary.

``deny`` → ``::error``, ``approval`` → ``::warning``, ``warn`` → ``::notice``.
Escaping follows the runner's rules: in the message ``%``, ``\\r`` and ``\\n``
become ``%25``, ``%0D`` and ``%0A``; property values (file, title) additionally
escape ``:`` and ``,`` (``%3A``, ``%2C``), which would otherwise end the value.
Suppressed findings are not annotated; the summary line counts them. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORMAT = "github"

COMMANDS: dict[str, str] = {"deny": "error", "approval": "warning", "warn": "notice"}


def escape_data(value: str) -> str:
    """Escape a workflow command's message part."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _positive(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def annotation(finding: Mapping[str, Any]) -> str:
    """One ``::error|warning|notice ...::message`` line for a finding."""
    level = finding.get("level")
    if level not in COMMANDS:
        raise ValueError(f"finding {finding.get('rule')!r} has unknown level {level!r}")
    rule = str(finding.get("rule") or "")
    if not rule:
        raise ValueError("finding without a rule id")
    props: list[str] = []
    if finding.get("file"):
        props.append("file=" + escape_property(str(finding["file"]).replace("\\", "/")))
        line = _positive(finding.get("line"))
        if line is not None:
            props.append(f"line={line}")
            column = _positive(finding.get("column"))
            if column is not None:
                props.append(f"col={column}")
    props.append("title=" + escape_property(f"sqlgate {rule} ({level})"))
    message = str(finding.get("message") or rule)
    if finding.get("help"):
        message = f"{message}\nHelp: {finding['help']}"
    return f"::{COMMANDS[str(level)]} {','.join(props)}::{escape_data(message)}"


def summary(result: Mapping[str, Any]) -> str:
    """The closing plain-text line: decision and counts."""
    findings = list(result.get("findings") or [])
    counts = {level: 0 for level in COMMANDS}
    for finding in findings:
        counts[str(finding.get("level"))] += 1
    suppressed = len(result.get("suppressions") or [])
    line = (
        f"sqlgate: decision {result.get('decision')}: {len(findings)} finding(s) "
        f"({counts['deny']} deny, {counts['approval']} approval, {counts['warn']} warn), "
        f"{suppressed} suppressed, {result.get('statements', 0)} statement(s), "
        f"policy {result.get('policy_digest', 'unknown')}"
    )
    if result.get("verdict_id"):
        line += f", verdict {result['verdict_id']}"
    # The summary is plain output; escape newlines so it cannot start a command.
    return escape_data(line)


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """Workflow commands for one check result (``sources`` is unused)."""
    del sources
    if result.get("decision") not in ("allow", "needs_approval", "deny"):
        raise ValueError(f"unknown decision {result.get('decision')!r}")
    lines = [annotation(finding) for finding in result.get("findings") or []]
    lines.append(summary(result))
    return "\n".join(lines) + "\n"
