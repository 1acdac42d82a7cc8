"""In-process Rego evaluation with regorus, safe under concurrent gRPC threads.

Two regorus facts shape this module (both checked on regorus 0.13 / gordon-to-regorus):

- A regorus ``Engine`` is *unsendable*: pyo3 panics if it is used or dropped on any thread
  but the one that created it. So no engine is shared: each worker thread prepares its own
  (policies and data added once, on first use), and every evaluation runs on a ``clone()``
  of that prepared engine, so no input or state leaks between evaluations. A clone costs
  well under a microsecond (the compiled policies are shared, reference-counted) while
  re-adding the policies costs milliseconds; see tests/policy/test_embedded.py.
- regorus holds the GIL for the whole evaluation and cannot be interrupted. Evaluations
  run on worker threads and the caller waits at most ``timeout_s``, but while a runaway
  evaluation holds the GIL the waiting thread cannot run either: here the budget is only
  enforced when the evaluation returns — a late result is discarded and PolicyTimeout is
  raised (deny), and a runaway stalls the whole process meanwhile. That is why the server
  uses ``sqlgate.policy.isolated.IsolatedEngine`` (config ``policies.isolation: process``),
  which kills an overrunning worker process; this thread mode remains for
  ``policies.isolation: thread`` and for tests that want no subprocesses.

The budget grows with the input: ``timeout_s`` plus ``timeout_per_1k_statements_s`` for
every 1,000 statements. The policies are linear in the statement count (see
bench/policy_bench.py), so one fixed budget is either too tight for a large legitimate
set (denied as an engine error) or too loose to notice a runaway on a small one.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from typing import Any

import regorus

from sqlgate.errors import PolicyError, PolicyEvaluationError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.engine import RESULT_RULE, PolicyResult, engine_error_text, parse_result

UNDEFINED = "<undefined>"


_STOP = None


def budget_for(policy_input: Mapping[str, Any], timeout_s: float, per_1k_s: float) -> float:
    """``timeout_s`` plus ``per_1k_s`` for every 1,000 statements of the input."""
    statements = policy_input.get("statements")
    count = len(statements) if isinstance(statements, list) else 0
    return timeout_s + per_1k_s * count / 1000


def encode_input(policy_input: Mapping[str, Any]) -> str:
    """The input as strict JSON (no NaN); PolicyEvaluationError if it is not JSON-able."""
    try:
        return json.dumps(policy_input, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PolicyEvaluationError(f"policy input is not JSON: {exc}") from exc


def decode_output(output: str, query: str) -> PolicyResult:
    """An engine's JSON answer through ``parse_result``; undefined or malformed is an error."""
    try:
        raw = json.loads(output)
    except ValueError as exc:
        raise PolicyEvaluationError(f"engine returned non-JSON output: {exc}") from exc
    if raw == UNDEFINED:
        raise PolicyEvaluationError(f"{query} is undefined for this input")
    return parse_result(raw)


class _EngineFailure(Exception):
    """An engine error carried from a worker thread as text only."""


@dataclass(frozen=True)
class _Job:
    input_json: str
    future: Future[str]


class EmbeddedEngine:
    """The Engine protocol over regorus; one prepared engine per worker thread.

    Workers are plain daemon threads that own their prepared engine in a local variable,
    so it is created, cloned and finally dropped on that one thread (regorus requires it).
    """

    def __init__(
        self,
        policy_set: PolicySet,
        *,
        timeout_s: float = 5.0,
        timeout_per_1k_statements_s: float = 0.0,
        workers: int = 2,
        query: str = RESULT_RULE,
    ) -> None:
        if timeout_s <= 0 or timeout_per_1k_statements_s < 0 or workers < 1:
            raise ValueError(
                "timeout_s must be positive, timeout_per_1k_statements_s not negative "
                "and workers at least 1"
            )
        self._policy_set = policy_set
        self._timeout_s = timeout_s
        self._per_1k_s = timeout_per_1k_statements_s
        self._query = query
        # Prepare once here too: a set that does not compile fails at construction.
        policy_set.new_engine()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._worker, name=f"sqlgate-rego-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def policy_digest(self) -> str:
        return self._policy_set.digest

    def _worker(self) -> None:
        prepared: regorus.Engine | None = None
        while (job := self._jobs.get()) is not _STOP:
            assert job is not None
            if not job.future.set_running_or_notify_cancel():
                continue
            engine = None
            try:
                if prepared is None:
                    prepared = self._policy_set.new_engine()
                engine = prepared.clone()
                engine.set_input_json(job.input_json)
                output = str(engine.eval_rule_as_json(self._query))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller as text
                # A fresh exception without traceback: the original's frames hold the
                # engines, which must not be freed on the caller's thread.
                job.future.set_exception(_EngineFailure(engine_error_text(exc)))
            else:
                job.future.set_result(output)
            del engine
        del prepared  # dropped on the thread that made it

    def budget_s(self, policy_input: Mapping[str, Any]) -> float:
        """Seconds this input may take: the base budget plus the per-statement allowance."""
        return budget_for(policy_input, self._timeout_s, self._per_1k_s)

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """Evaluate the result rule; any failure or overrun raises (the verdict is deny)."""
        budget = self.budget_s(policy_input)
        input_json = encode_input(policy_input)
        started = time.monotonic()
        future: Future[str] = Future()
        self._jobs.put(_Job(input_json, future))
        try:
            output = future.result(timeout=budget)
        except FuturesTimeout as exc:
            future.cancel()
            raise PolicyTimeout(f"policy evaluation exceeded {budget:g}s") from exc
        except PolicyError:
            raise
        except Exception as exc:  # regorus reports every engine error as a plain exception
            raise PolicyEvaluationError(
                f"policy evaluation failed: {engine_error_text(exc)}"
            ) from exc
        elapsed = time.monotonic() - started
        if elapsed > budget:
            raise PolicyTimeout(
                f"policy evaluation took {elapsed:.3f}s, over its {budget:g}s budget"
            )
        return decode_output(output, self._query)

    def close(self) -> None:
        """Stop the worker threads; each drops its prepared engine on its own thread."""
        for _ in self._threads:
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join()
