"""GitLab Code Quality report (the JSON array GitLab shows in merge requests).

Severity mapping: ``deny`` → ``blocker`` (merge is refused), ``approval`` →
``major`` (needs a human), ``warn`` → ``minor``. ``critical`` and ``info`` are
not used. Suppressed findings are left out: Code Quality has no notion of a
dismissed issue, and listing them would reopen them in every MR.

Fingerprints are the SARIF renderer's (rule + file + normalised source line),
so the same finding has the same identity in both reports. Stdlib only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlgate_client.render.sarif import fingerprints

FORMAT = "gitlab"

SEVERITIES: dict[str, str] = {"deny": "blocker", "approval": "major", "warn": "minor"}


def build(result: Mapping[str, Any], sources: Mapping[str, str]) -> list[dict[str, Any]]:
    """The report as a list of issue dicts."""
    findings = list(result.get("findings") or [])
    issues: list[dict[str, Any]] = []
    for finding, fingerprint in zip(findings, fingerprints(findings, sources), strict=True):
        level = finding.get("level")
        if level not in SEVERITIES:
            raise ValueError(f"finding {finding.get('rule')!r} has unknown level {level!r}")
        rule = str(finding.get("rule") or "")
        if not rule:
            raise ValueError("finding without a rule id")
        line = finding.get("line")
        begin = line if isinstance(line, int) and not isinstance(line, bool) and line >= 1 else 1
        description = str(finding.get("message") or rule)
        if finding.get("help"):
            description = f"{description} Help: {finding['help']}"
        issues.append(
            {
                "type": "issue",
                "description": description,
                "check_name": rule,
                # GitLab compares fingerprints as opaque strings; an MD5-length hex keeps
                # it within what GitLab documents while staying derived from ours.
                "fingerprint": hashlib.md5(fingerprint.encode(), usedforsecurity=False).hexdigest(),
                "severity": SEVERITIES[str(level)],
                "categories": ["Bug Risk"],
                "location": {
                    "path": str(finding.get("file") or "").replace("\\", "/").removeprefix("./"),
                    "lines": {"begin": begin},
                },
            }
        )
    return issues


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """GitLab Code Quality JSON for one check result."""
    if result.get("decision") not in ("allow", "needs_approval", "deny"):
        raise ValueError(f"unknown decision {result.get('decision')!r}")
    return json.dumps(build(result, sources), indent=2, ensure_ascii=False) + "\n"
