"""In-process Rego evaluation with regorus, safe under concurrent gRPC threads.

Two regorus facts shape this module (both checked on regorus 0.13 / gordon-to-regorus):

- A regorus ``Engine`` is *unsendable*: pyo3 panics if it is used or dropped on any thread
  but the one that created it. So no engine is shared: each worker thread prepares its own
  (policies and data added once, on first use), and every evaluation runs on a ``clone()``
  of that prepared engine, so no input or state leaks between evaluations. A clone costs
  well under a microsecond (the compiled policies are shared, reference-counted) while
  re-adding the policies costs milliseconds; see tests/policy/test_embedded.py.
- regorus holds the GIL for the whole evaluation and cannot be interrupted. Evaluations
  run on a worker pool and the caller waits at most ``timeout_s``, but while a runaway
  evaluation holds the GIL the waiting thread cannot run either: in practice the budget is
  enforced when the evaluation returns — a late result is discarded and PolicyTimeout is
  raised (deny). Trade-off accepted because the policy tree is the server's own, reviewed
  code (never taken from the PR under review) and the input is size-limited upstream; a
  hard preemptive limit would need a separate process per evaluation.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

import regorus

from sqlgate.errors import PolicyError, PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.engine import RESULT_RULE, PolicyResult, engine_error_text, parse_result

UNDEFINED = "<undefined>"


class EmbeddedEngine:
    """The Engine protocol over regorus; one prepared engine per worker thread."""

    def __init__(
        self,
        policy_set: PolicySet,
        *,
        timeout_s: float = 5.0,
        workers: int = 2,
        query: str = RESULT_RULE,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self._policy_set = policy_set
        self._timeout_s = timeout_s
        self._query = query
        self._local = threading.local()
        # Prepare once here too: a set that does not compile fails at construction.
        policy_set.new_engine()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sqlgate-rego")

    @property
    def policy_digest(self) -> str:
        return self._policy_set.digest

    def _prepared(self) -> regorus.Engine:
        engine: regorus.Engine | None = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._policy_set.new_engine()
            self._local.engine = engine
        return engine

    def _run(self, input_json: str) -> str:
        engine = self._prepared().clone()
        engine.set_input_json(input_json)
        return str(engine.eval_rule_as_json(self._query))

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """Evaluate the result rule; any failure or overrun raises (the verdict is deny)."""
        try:
            input_json = json.dumps(policy_input, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PolicyEvaluationError(
                f"policy input is not JSON: {engine_error_text(exc)}"
            ) from exc
        started = time.monotonic()
        try:
            future = self._pool.submit(self._run, input_json)
            output = future.result(timeout=self._timeout_s)
        except FuturesTimeout as exc:
            raise PolicyTimeout(f"policy evaluation exceeded {self._timeout_s:g}s") from exc
        except PolicyError:
            raise
        except Exception as exc:  # regorus reports every engine error as a plain exception
            raise PolicyEvaluationError(
                f"policy evaluation failed: {engine_error_text(exc)}"
            ) from exc
        elapsed = time.monotonic() - started
        if elapsed > self._timeout_s:
            raise PolicyTimeout(
                f"policy evaluation took {elapsed:.3f}s, over its {self._timeout_s:g}s budget"
            )
        try:
            raw = json.loads(output)
        except ValueError as exc:
            raise PolicyEvaluationError(
                f"engine returned non-JSON output: {engine_error_text(exc)}"
            ) from exc
        if raw == UNDEFINED:
            raise PolicyEvaluationError(f"{self._query} is undefined for this input")
        return parse_result(raw)

    def close(self) -> None:
        """Stop the worker threads (their prepared engines die with them)."""
        self._pool.shutdown(wait=True)
