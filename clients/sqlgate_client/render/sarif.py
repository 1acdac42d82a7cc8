"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run; ``tool.driver`` is ``sqlgate`` with one ``rules`` entry per rule that
fired. Levels map as: ``deny`` → ``error``, ``approval`` → ``warning``,
``warn`` → ``note`` (a rule's ``defaultConfiguration.level`` is the most severe
level it reported). Suppressed findings are results carrying an ``inSource``
suppression whose justification is the suppression's reason, so viewers show
them as dismissed rather than losing them.

``partialFingerprints["sqlgate/v1"]`` hashes rule, file and the whitespace-
normalised text of the finding's source line (plus an occurrence number for
identical lines), so a finding keeps its identity when unrelated lines move.
Stdlib only: this module lives in the thin client.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

FORMAT = "sarif"

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "sqlgate/v1"

# Finding level → SARIF result level.
LEVELS: dict[str, str] = {"deny": "error", "approval": "warning", "warn": "note"}
_SEVERITY = {"error": 3, "warning": 2, "note": 1, "none": 0}
_SPACE = re.compile(r"\s+")


def finding_level(finding: Mapping[str, Any]) -> str:
    """The finding's level, refusing anything outside the contract (fail closed)."""
    level = finding.get("level")
    if level not in LEVELS:
        raise ValueError(f"finding {finding.get('rule')!r} has unknown level {level!r}")
    return str(level)


def artifact_uri(path: str) -> str:
    """A relative URI reference with forward slashes, percent-encoded (``:`` too)."""
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/")


def _position(finding: Mapping[str, Any], key: str) -> int | None:
    value = finding.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _line_text(finding: Mapping[str, Any], sources: Mapping[str, str]) -> str | None:
    line = _position(finding, "line")
    text = sources.get(str(finding.get("file") or ""))
    if line is None or text is None:
        return None
    lines = text.splitlines()
    if line > len(lines):
        return None
    return _SPACE.sub(" ", lines[line - 1]).strip()


def fingerprints(findings: Sequence[Mapping[str, Any]], sources: Mapping[str, str]) -> list[str]:
    """Stable fingerprints, one per finding, in order.

    Hash of rule + file + normalised source line; without the source, the message
    stands in for the line. Identical keys get an occurrence suffix so that two
    findings on identical lines stay distinct and keep their identity across runs.
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    for finding in findings:
        anchor = _line_text(finding, sources)
        if anchor is None:
            anchor = "message:" + _SPACE.sub(" ", str(finding.get("message", ""))).strip()
        file = str(finding.get("file") or "").replace("\\", "/")
        key = "\0".join((str(finding.get("rule", "")), file, anchor))
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(f"{digest}:{seen[digest]}")
    return out


def _location(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    file = finding.get("file")
    if not file:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(str(file))}}
    line = _position(finding, "line")
    if line is not None:
        region: dict[str, Any] = {"startLine": line}
        column = _position(finding, "column")
        if column is not None:
            region["startColumn"] = column
        physical["region"] = region
    return [{"physicalLocation": physical}]


def _suppression_key(item: Mapping[str, Any]) -> tuple[str, str, int | None]:
    return (str(item.get("rule", "")), str(item.get("file") or ""), _position(item, "line"))


def _suppressed_findings(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Suppressions as findings: level ``warn`` unless the entry says otherwise."""
    out = []
    for item in result.get("suppressions") or []:
        reason = str(item.get("reason") or "").strip()
        if not reason:
            raise ValueError(f"suppression of {item.get('rule')!r} has no reason")
        rule = str(item.get("rule", ""))
        scope = item.get("scope", "statement")
        out.append(
            {
                "rule": rule,
                "level": item.get("level", "warn"),
                "file": item.get("file"),
                "line": item.get("line"),
                "column": item.get("column"),
                "message": item.get("message") or f"{rule} suppressed ({scope})",
                "help": item.get("help", ""),
                "_reason": reason,
            }
        )
    return out


def build(result: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """The SARIF log as a dict (``render`` serialises it)."""
    findings: list[Mapping[str, Any]] = list(result.get("findings") or [])
    suppressed = _suppressed_findings(result)
    everything: list[Mapping[str, Any]] = [*findings, *suppressed]
    prints = fingerprints(everything, sources)

    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    for finding, fingerprint in zip(everything, prints, strict=True):
        rule = str(finding.get("rule") or "")
        if not rule:
            raise ValueError("finding without a rule id")
        level = LEVELS[finding_level(finding)]
        if rule not in rule_index:
            rule_index[rule] = len(rules)
            descriptor: dict[str, Any] = {
                "id": rule,
                "shortDescription": {"text": str(finding.get("message") or rule)},
                "defaultConfiguration": {"level": level},
            }
            if finding.get("help"):
                descriptor["help"] = {"text": str(finding["help"])}
            if finding.get("help_uri"):
                descriptor["helpUri"] = str(finding["help_uri"])
            rules.append(descriptor)
        else:
            current = rules[rule_index[rule]]["defaultConfiguration"]
            if _SEVERITY[level] > _SEVERITY[current["level"]]:
                current["level"] = level
        message = str(finding.get("message") or rule)
        if finding.get("help"):
            message = f"{message}\n\nHelp: {finding['help']}"
        entry: dict[str, Any] = {
            "ruleId": rule,
            "ruleIndex": rule_index[rule],
            "level": level,
            "message": {"text": message},
            "locations": _location(finding),
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            "properties": {"sqlgateLevel": finding["level"]},
        }
        if "_reason" in finding:
            entry["suppressions"] = [{"kind": "inSource", "justification": finding["_reason"]}]
        results.append(entry)

    properties: dict[str, Any] = {
        "decision": result.get("decision"),
        "statements": result.get("statements"),
        "policyDigest": result.get("policy_digest"),
    }
    if result.get("verdict_id"):
        properties["verdictId"] = result["verdict_id"]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "sqlgate", "rules": rules}},
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": properties,
            }
        ],
    }


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """SARIF 2.1.0 JSON text for one check result."""
    if result.get("decision") not in ("allow", "needs_approval", "deny"):
        raise ValueError(f"unknown decision {result.get('decision')!r}")
    return json.dumps(build(result, sources), indent=2, ensure_ascii=False) + "\n"
