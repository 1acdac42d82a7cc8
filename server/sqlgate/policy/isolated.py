"""Rego evaluation in worker processes, so a time budget really interrupts a runaway.

regorus holds the GIL for a whole evaluation and cannot be interrupted (see
``sqlgate.policy.embedded``): in-thread, a pathological evaluation stalls the server and
its "timeout" fires only after it returns. Here each evaluation runs in one of a few
worker processes, each holding a regorus engine prepared once from the PolicySet (every
evaluation uses a ``clone()`` of it, so nothing leaks between inputs). The caller sends
the input JSON over a pipe and waits at most the budget (``budget_s``: ``timeout_s`` plus
the per-1,000-statement allowance); if it passes, the caller raises PolicyTimeout at once,
SIGKILLs that worker and a replacement starts in the background. A worker that dies
mid-evaluation is a PolicyEvaluationError. Both are denies, never a hang or an allow; the
raw answer goes through the same ``decode_output``/``parse_result`` as the thread mode.

Workers use ``spawn`` (the server is threaded; ``fork`` would copy held locks), and
start in ~0.1 s here (interpreter, regorus import, policy compile), so the CLI's one-shot
``--local`` check uses this mode too. Waiting for a free worker is bounded separately by
``budget + start_timeout_s`` (all workers busy, or a replacement still starting): the
budget measures the evaluation itself, and no wait is unbounded.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from typing import Any

from sqlgate.errors import PolicyError, PolicyEvaluationError, PolicyLoadError, PolicyTimeout
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import budget_for, decode_output, encode_input
from sqlgate.policy.engine import RESULT_RULE, PolicyResult, engine_error_text

log = logging.getLogger(__name__)

START_TIMEOUT_S = 30.0
# Between failed attempts to replace a worker (start-up failing twice is not transient).
RESTART_BACKOFF_S = (0.5, 2.0, 10.0)


def _serve(conn: Connection, policy_set: PolicySet, query: str) -> None:
    """Worker process main: prepare once, then answer ("ok"|"error", text) per input.

    SIGINT is ignored so a terminal's Ctrl-C reaches only the parent, which decides how
    to shut the workers down; a closed pipe (parent gone) ends the loop.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        prepared = policy_set.new_engine()
    except PolicyError as exc:
        conn.send(("error", str(exc)))
        return
    conn.send(("ready", ""))
    while True:
        try:
            input_json = conn.recv()
        except (EOFError, OSError):
            return
        if input_json is None:
            return
        try:
            engine = prepared.clone()
            engine.set_input_json(input_json)
            answer = ("ok", str(engine.eval_rule_as_json(query)))
        except Exception as exc:  # noqa: BLE001 - regorus raises plain exceptions
            answer = ("error", engine_error_text(exc))
        conn.send(answer)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, process: SpawnProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def answered(self, timeout_s: float) -> bool:
        """Whether it answered or exited within ``timeout_s`` (the pipe alone could stay
        open while a start-up fd hand-over is pending, so the process sentinel counts too)."""
        return bool(wait([self.conn, self.process.sentinel], timeout_s))

    def receive(self) -> tuple[str, str]:
        """The pending answer; EOFError if the worker exited without one."""
        if not self.conn.poll(0):
            raise EOFError(f"policy worker {self.pid} exited")
        status, text = self.conn.recv()
        return str(status), str(text)

    def kill(self) -> int | None:
        """SIGKILL and reap; the exit code (None if it would not die within 5 s)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5.0)
        self.conn.close()
        return self.process.exitcode

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(2.0)
        self.kill()


def _spawn(ctx: multiprocessing.context.SpawnContext, policy_set: PolicySet, query: str) -> _Worker:
    parent, child = ctx.Pipe(duplex=True)
    process = ctx.Process(
        target=_serve, args=(child, policy_set, query), name="sqlgate-rego", daemon=True
    )
    process.start()
    child.close()
    return _Worker(process, parent)


def _await_ready(worker: _Worker, timeout_s: float) -> _Worker:
    """The worker once it has compiled the policies; PolicyLoadError/-EvaluationError if not."""
    try:
        if not worker.answered(timeout_s):
            worker.kill()
            raise PolicyEvaluationError(f"policy worker did not start within {timeout_s:g}s")
        status, text = worker.receive()
    except (EOFError, OSError) as exc:
        code = worker.kill()
        raise PolicyEvaluationError(f"policy worker died while starting (exit {code})") from exc
    if status != "ready":
        worker.kill()
        raise PolicyLoadError(f"policy worker could not prepare the policies: {text}")
    return worker


class IsolatedEngine:
    """The Engine protocol over a pool of worker processes with a hard per-call budget."""

    def __init__(
        self,
        policy_set: PolicySet,
        *,
        timeout_s: float = 5.0,
        timeout_per_1k_statements_s: float = 0.0,
        workers: int = 2,
        query: str = RESULT_RULE,
        start_timeout_s: float = START_TIMEOUT_S,
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
        self._start_timeout_s = start_timeout_s
        self._ctx = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._live: list[_Worker] = []
        self._closed = False
        # Start all workers now and wait: a set that does not compile fails construction.
        spawned = [_spawn(self._ctx, policy_set, query) for _ in range(workers)]
        try:
            ready = [_await_ready(w, start_timeout_s) for w in spawned]
        except BaseException:
            for w in spawned:
                w.kill()
            raise
        self._idle.extend(ready)
        self._live.extend(ready)

    @property
    def policy_digest(self) -> str:
        return self._policy_set.digest

    def budget_s(self, policy_input: Mapping[str, Any]) -> float:
        """Seconds this input may take: the base budget plus the per-statement allowance."""
        return budget_for(policy_input, self._timeout_s, self._per_1k_s)

    def worker_pids(self) -> dict[int, bool]:
        """Live worker pids, each mapped to whether it is evaluating right now."""
        with self._cond:
            return {w.pid: w not in self._idle for w in self._live}

    def evaluate(self, policy_input: Mapping[str, Any]) -> PolicyResult:
        """Evaluate the result rule in a worker; overrun, crash or failure raises (deny)."""
        budget = self.budget_s(policy_input)
        input_json = encode_input(policy_input)
        worker = self._acquire(budget + self._start_timeout_s)
        status, text, answered = "", "", False
        try:
            worker.conn.send(input_json)
            answered = worker.answered(budget)
            if answered:
                status, text = worker.receive()
        except (EOFError, OSError) as exc:
            code = self._discard(worker)
            raise PolicyEvaluationError(
                f"policy worker {worker.pid} died during evaluation (exit {code}); "
                "the set was not evaluated"
            ) from exc
        except BaseException:
            self._discard(worker)  # its state is unknown: never hand it out again
            raise
        if not answered:
            self._discard(worker)
            raise PolicyTimeout(f"policy evaluation exceeded {budget:g}s; its worker was stopped")
        self._release(worker)
        if status != "ok":
            raise PolicyEvaluationError(f"policy evaluation failed: {text}")
        return decode_output(text, self._query)

    def _acquire(self, wait_s: float) -> _Worker:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                if self._closed:
                    raise PolicyEvaluationError("the policy engine is closed")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.process.is_alive():
                        return worker
                    # Died while idle (killed from outside): nothing was evaluated on it,
                    # so replace it and try another rather than deny.
                    self._live.remove(worker)
                    worker.kill()
                    self._start_replacement()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PolicyTimeout(f"no policy worker became free within {wait_s:g}s")
                self._cond.wait(remaining)

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if not self._closed:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._live.remove(worker)
        worker.stop()

    def _discard(self, worker: _Worker) -> int | None:
        """Kill a worker that overran, crashed or was interrupted; start its replacement."""
        code = worker.kill()
        with self._cond:
            self._live.remove(worker)
            if not self._closed:
                self._start_replacement()
        return code

    def _start_replacement(self) -> None:
        threading.Thread(target=self._replace, name="sqlgate-rego-restart", daemon=True).start()

    def _replace(self) -> None:
        """Start one worker in the background, retrying with back-off until closed."""
        attempt = 0
        while True:
            try:
                worker = _await_ready(
                    _spawn(self._ctx, self._policy_set, self._query), self._start_timeout_s
                )
            except PolicyError as exc:
                delay = RESTART_BACKOFF_S[min(attempt, len(RESTART_BACKOFF_S) - 1)]
                log.error("policy worker failed to start (retry in %gs): %s", delay, exc)
                attempt += 1
                time.sleep(delay)
                with self._cond:
                    if self._closed:
                        return
                continue
            with self._cond:
                if not self._closed:
                    self._live.append(worker)
                    self._idle.append(worker)
                    self._cond.notify()
                    return
            worker.stop()
            return

    def close(self) -> None:
        """Stop idle workers now; busy ones stop when their evaluation ends or is killed."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            for worker in idle:
                self._live.remove(worker)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()

    def terminate(self) -> None:
        """``close``, then SIGKILL busy workers too (server shutdown after the grace
        period: their calls were cancelled). An evaluation running on one fails as a
        dead worker would; nothing is replaced once closed."""
        self.close()
        with self._cond:
            busy = list(self._live)
        for worker in busy:
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()

    def __enter__(self) -> IsolatedEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
