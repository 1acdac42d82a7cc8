"""Admission control: large reviews take turns so small checks keep being answered.

A review is CPU-bound Python (the GIL) plus a policy evaluation on one of a few worker
processes. Eight parallel 4 MB reviews used to hold every gRPC thread and both policy
workers for minutes, so a one-statement Check waited behind them. Here a Check whose
input reaches ``large_request_bytes`` is *large*: at most ``max_large_running`` run at
once (fewer than the policy workers, so one stays free for small checks), up to
``max_large_queued`` more wait in FIFO order, and the rest are refused at once with
RESOURCE_EXHAUSTED (``Overloaded``) and a message saying why and to retry. A queued
request waits at most ``large_queue_wait_s`` and never past its own deadline.
Small checks are never queued. With the queue bounded, large requests hold at most
``max_large_running + max_large_queued`` gRPC threads; ``check_threads`` makes sure
the server keeps threads beyond that for small calls.

``close`` (graceful shutdown) refuses everything still queued, so a stopping server
does not start new large work.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sqlgate.config import LimitsConfig
from sqlgate.errors import ConfigError, Overloaded

# gRPC threads kept for small calls beyond those large requests can hold.
RESERVED_THREADS = 2


def check_threads(limits: LimitsConfig, max_workers: int) -> None:
    """ConfigError unless large requests leave RESERVED_THREADS threads for small ones."""
    held = limits.max_large_running + limits.max_large_queued
    if max_workers < held + RESERVED_THREADS:
        raise ConfigError(
            f"max_workers ({max_workers}) must be at least limits.max_large_running + "
            f"limits.max_large_queued + {RESERVED_THREADS} ({held + RESERVED_THREADS}), so "
            "small checks keep a thread while large ones run or wait"
        )


class Admission:
    """A FIFO lane for large requests; see the module docstring."""

    def __init__(self, limits: LimitsConfig) -> None:
        self.large_bytes = limits.large_request_bytes
        self.max_running = limits.max_large_running
        self.max_queued = limits.max_large_queued
        self.max_wait_s = limits.large_queue_wait_s
        self._cond = threading.Condition()
        self._running = 0
        self._queue: deque[object] = deque()
        self._closed = False
        self._active = 0  # reviews running now, small and large

    def is_large(self, size: int) -> bool:
        return size >= self.large_bytes

    @contextmanager
    def admit(self, size: int, deadline_s: float | None = None) -> Iterator[None]:
        """Run the body now (small, or a free slot), after a wait, or raise Overloaded.

        ``deadline_s``: seconds left before the caller's deadline (None: no deadline).
        """
        large = self.is_large(size)
        if large:
            self._enter(size, deadline_s)
        with self._cond:
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if large:
                    self._running -= 1
                self._cond.notify_all()

    def _enter(self, size: int, deadline_s: float | None) -> None:
        wait_s = self.max_wait_s if deadline_s is None else min(self.max_wait_s, deadline_s)
        ticket = object()
        with self._cond:
            if self._closed:
                raise Overloaded("the server is shutting down; retry on another replica")
            if self._running < self.max_running and not self._queue:
                self._running += 1
                return
            if len(self._queue) >= self.max_queued:
                raise Overloaded(
                    f"server busy: {self._running} large review(s) running and "
                    f"{len(self._queue)} queued (a request of {size} bytes is large from "
                    f"{self.large_bytes} bytes; {self.max_running} run at a time, "
                    f"{self.max_queued} may wait); retry later"
                )
            self._queue.append(ticket)
            end = time.monotonic() + wait_s
            try:
                while (
                    not (self._queue[0] is ticket and self._running < self.max_running)
                    and not self._closed
                ):
                    remaining = end - time.monotonic()
                    if remaining <= 0:
                        raise Overloaded(
                            f"server busy: a large review ({size} bytes) waited {wait_s:g}s "
                            "for its turn; retry later"
                        )
                    self._cond.wait(remaining)
                if self._closed:
                    raise Overloaded("the server is shutting down; retry on another replica")
                self._running += 1
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()

    def close(self) -> None:
        """Refuse queued and new large requests (running ones finish or are cancelled)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_idle(self, timeout_s: float) -> int:
        """Wait up to ``timeout_s`` for running reviews to end; how many still run."""
        end = time.monotonic() + timeout_s
        with self._cond:
            while self._active and (remaining := end - time.monotonic()) > 0:
                self._cond.wait(remaining)
            return self._active

    def stats(self) -> tuple[int, int]:
        """(running, queued) large requests now."""
        with self._cond:
            return self._running, len(self._queue)
