"""Evaluate the policies on a central OPA through its Data API (`opa-python-client`).

``POST /v1/data/<package>/result?provenance=true`` with ``{"input": ...}``; OPA answers
``{"result": ...}`` (no ``result`` key when the rule is undefined) plus, with provenance,
the revision of each bundle it evaluated. Same error semantics as the embedded engine:
transport errors, HTTP errors, an undefined or malformed result all raise
PolicyEvaluationError, a request over ``timeout_s`` raises PolicyTimeout — never an allow.

Digest: the verdict must name the policies that produced it. If ``policy_digest`` is given
(the `PolicySet.digest` of the tree the deployed bundle was built from, used as the
bundle's revision), every answer must report that revision for the ``bundle`` bundle or
it is refused. Without it, ``policy_digest`` is ``"opa:<bundle>@<revision>"`` from the last
answer, or ``"opa:unversioned"`` when OPA serves no bundle revision.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from opa_client import OpaClient

from sqlgate.errors import PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.engine import PolicyResult, parse_result


class RemoteOpaEngine:
    """The Engine protocol over a remote OPA server's Data API."""

    def __init__(
        self,
        url: str,
        *,
        package: str = "sqlgate/main",
        timeout_s: float = 5.0,
        policy_digest: str | None = None,
        bundle: str = "sqlgate",
        token: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"OPA url must be http(s)://host[:port], got {url!r}")
        self._package = package.strip("/").replace(".", "/")
        self._expected = policy_digest
        self._bundle = bundle
        self._seen = "opa:unversioned"
        self._lock = threading.Lock()
        self._client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if parts.scheme == "https" else 80),
            ssl=parts.scheme == "https",
            token=token,
            retries=0,  # a retry could outlive the caller's budget; the caller denies instead
            timeout=timeout_s,
        )

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
        """Query ``<package>/result``; any failure raises (the verdict is deny)."""
        try:
            answer = self._client.query_rule(
                input_data=dict(policy_input),
                package_path=self._package,
                rule_name="result",
                query_params={"provenance": True},
            )
        except requests.Timeout as exc:
            raise PolicyTimeout(f"OPA did not answer in time: {exc}") from exc
        except requests.HTTPError as exc:
            body = exc.response.text[:500] if exc.response is not None else ""
            raise PolicyEvaluationError(f"OPA refused the query: {exc}: {body}") from exc
        except (requests.RequestException, TypeError, ValueError) as exc:
            raise PolicyEvaluationError(f"OPA query failed: {exc}") from exc
        if not isinstance(answer, Mapping) or "result" not in answer:
            raise PolicyEvaluationError(
                f"OPA returned no result for {self._package}/result (undefined?)"
            )
        revision = self._revision(answer)
        if self._expected is not None and revision != self._expected:
            raise PolicyEvaluationError(
                f"OPA evaluated bundle revision {revision!r}, expected {self._expected!r}"
            )
        if revision is not None:
            with self._lock:
                self._seen = f"opa:{self._bundle}@{revision}"
        return parse_result(answer["result"])

    def close(self) -> None:
        """Close the HTTP session."""
        self._client.close_connection()
