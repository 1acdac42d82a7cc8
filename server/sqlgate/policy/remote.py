"""Evaluate the policies on a remote OPA server through its Data API (``policies.engine: opa``).

``POST <url>/v1/data/<package>/result?provenance=true`` with ``{"input": ...}``; OPA
answers ``{"result": ...}`` (no ``result`` key when the rule is undefined) plus, with
provenance, the revision of each bundle it evaluated. Same error semantics as the embedded
engine: transport and TLS errors, HTTP errors (401/403 included), an undefined or malformed
result all raise PolicyEvaluationError, an answer later than the budget raises
PolicyTimeout — never an allow. The budget is the embedded engine's: ``timeout_s`` plus
``timeout_per_1k_statements_s`` per 1,000 statements (a flat 5 s denied an 845-statement
set the embedded engine answered in 2 s).

Digest: the verdict must name the policies that produced it. With ``policy_digest`` (the
`PolicySet.digest` of the tree the deployed bundle was built from, which ``sqlgate policy
build`` writes as the bundle's revision) every answer must report that revision for the
``bundle`` bundle, or it is refused. Without it, ``policy_digest`` is
``"opa:<bundle>@<revision>"`` from the last answer, ``"opa:unversioned"`` before one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from sqlgate.errors import PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.embedded import budget_for, encode_input
from sqlgate.policy.engine import PolicyResult, parse_result


class RemoteOpaEngine:
    """The Engine protocol over a remote OPA server's Data API."""

    def __init__(
        self,
        url: str,
        *,
        package: str = "sqlgate/main",
        timeout_s: float = 5.0,
        timeout_per_1k_statements_s: float = 0.5,
        policy_digest: str | None = None,
        bundle: str = "sqlgate",
        token: str | None = None,
        ca: Path | None = None,
        client_cert: tuple[Path, Path] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA url must be http(s)://host[:port], got {url!r}")
        if parts.scheme == "http" and (ca is not None or client_cert is not None):
            raise ValueError(f"OPA url {url!r} is plain http but TLS options are set")
        self._package = package.strip("/").replace(".", "/")
        self._url = f"{url.rstrip('/')}/v1/data/{self._package}/result"
        self._timeout_s = timeout_s
        self._per_1k_s = timeout_per_1k_statements_s
        self._expected = policy_digest
        self._bundle = bundle
        self._seen = "opa:unversioned"
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy or netrc from the environment
        self._session.verify = str(ca) if ca is not None else True
        if client_cert is not None:
            self._session.cert = (str(client_cert[0]), str(client_cert[1]))
        self._session.headers["Content-Type"] = "application/json"
        if token is not None:
            self._session.headers["Authorization"] = f"Bearer {token}"

    @property
    def policy_digest(self) -> str:
        if self._expected is not None:
            return self._expected
        with self._lock:
            return self._seen

    def _revision(self, answer: Mapping[str, Any]) -> str | None:
        provenance = answer.get("provenance")
        if not isinstance(provenance, Mapping):
            return None
        bundles = provenance.get("bundles")
        if not isinstance(bundles, Mapping):
            return None
        entry = bundles.get(self._bundle)
        revision = entry.get("revision") if isinstance(entry, Mapping) else None
        return revision if isinstance(revision, str) and revision else None

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """Query ``<package>/result`` within the budget; any failure raises (deny)."""
        budget = budget_for(policy_input, self._timeout_s, self._per_1k_s)
        body = '{"input":' + encode_input(policy_input) + "}"
        started = time.monotonic()
        try:
            response = self._session.post(
                self._url,
                params={"provenance": "true"},
                data=body.encode("utf-8"),
                timeout=(min(budget, 5.0), budget),
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise PolicyTimeout(f"OPA did not answer within {budget:.1f}s: {exc}") from exc
        except requests.RequestException as exc:
            raise PolicyEvaluationError(f"OPA query failed: {exc}") from exc
        if time.monotonic() - started > budget:
            raise PolicyTimeout(f"OPA answered after the {budget:.1f}s budget")
        if response.status_code != 200:
            raise PolicyEvaluationError(
                f"OPA refused the query: HTTP {response.status_code}: {response.text[:500]}"
            )
        try:
            answer = json.loads(response.content)
        except ValueError as exc:
            raise PolicyEvaluationError(f"OPA answered with invalid JSON: {exc}") from exc
        if not isinstance(answer, Mapping) or "result" not in answer:
            raise PolicyEvaluationError(
                f"OPA returned no result for {self._package}/result (undefined?)"
            )
        revision = self._revision(answer)
        if self._expected is not None and revision != self._expected:
            raise PolicyEvaluationError(
                f"OPA evaluated bundle {self._bundle!r} revision {revision!r}, "
                f"expected {self._expected!r}"
            )
        if revision is not None:
            with self._lock:
                self._seen = f"opa:{self._bundle}@{revision}"
        return parse_result(answer["result"])

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()
