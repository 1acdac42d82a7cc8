"""Per-file parsing spread over cores: a process pool created once and reused.

Parsing is CPU-bound Python (the GIL rules out threads), files are independent, and
a FileParse of frozen dataclasses pickles cheaply, so a plain ``ProcessPoolExecutor``
does it. Workers are started with ``spawn`` (never ``fork``: the server is a threaded
gRPC process) and import the parser once.

Errors keep their meaning across the process boundary: an InputError raised in a
worker (EncodingError, PlaceholderError, LimitExceeded ...) is re-raised in the caller
as the same class with the same message and ``file``; a worker that dies fails the
whole parse with ParseWorkerError (never a partial success), and the next call gets
a fresh pool.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from sqlgate.errors import InputError, ParseWorkerError

if TYPE_CHECKING:
    from sqlgate.parse.cache import FileParse
    from sqlgate.parse.source import SourceFile

# Below this many bytes still to parse, the IPC round trips cost more than the extra
# cores save. Since the regex splitter and pglast fast path, a file parses in ~0.5 ms and
# on 2 cores the pool never wins (1.1 MiB: one core 0.79 s, pool 1.17-1.34 s warm), so
# it is opt-in (config ``parse_workers``) for servers with more cores.
MIN_POOL_BYTES = 64 * 1024

_Outcome = tuple[str, Any, str, str | None]


def _init_worker() -> None:
    """Pay imports and the parsers' first-use set-up once per worker, not on a review."""
    from sqlgate.parse import parse_file

    sql = b"CREATE TABLE t (a int primary key); UPDATE t SET a = 1 WHERE a = 2;"
    for dialect in ("postgres", "mysql"):
        parse_file("warm-up.sql", sql, dialect, None, 200)


def _work(
    path: str, content: bytes, dialect: str, variables: dict[str, str] | None, max_nesting: int
) -> tuple[str, Any, str, str | None]:
    """Run in a worker: ("ok", FileParse, "", None) or ("error", class, message, file)."""
    from sqlgate.parse import parse_file

    try:
        return ("ok", parse_file(path, content, dialect, variables, max_nesting), "", None)
    except InputError as exc:
        message = str(exc)
        if exc.file and message.startswith(f"{exc.file}: "):
            message = message[len(exc.file) + 2 :]
        return ("error", type(exc), message, exc.file)


def _rebuild(cls: type[InputError], message: str, file: str | None) -> InputError:
    """The worker's InputError as the same class, message and file in this process."""
    try:
        return cls(message, file=file)
    except TypeError:  # a subclass with another signature: keep the text, fail closed
        return InputError(message, file=file)


class ParsePool:
    """A reusable process pool for ``parse_migrations(..., pool=...)``; close when done."""

    def __init__(self, workers: int | None = None, *, min_bytes: int = MIN_POOL_BYTES) -> None:
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.min_bytes = min_bytes
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self._terminated = False

    def _get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise ParseWorkerError("the parse pool is closed")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                )
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def warm_up(self) -> None:
        """Start every worker now (server start-up) instead of on the first big review."""
        executor = self._get()
        try:
            for fut in [executor.submit(_init_worker) for _ in range(self.workers)]:
                fut.result()
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise ParseWorkerError(f"parse workers failed to start: {exc}") from exc

    def worth_it(self, files: Sequence[SourceFile]) -> bool:
        return self.workers > 1 and sum(len(f.content) for f in files) >= self.min_bytes

    def submit_all(
        self,
        files: Sequence[SourceFile],
        dialect: str,
        variables: Mapping[str, str] | None,
        max_nesting: int,
    ) -> list[Future[_Outcome]]:
        executor = self._get()
        values = dict(variables) if variables is not None else None
        try:
            return [
                executor.submit(_work, f.path, f.content, dialect, values, max_nesting)
                for f in files
            ]
        except BrokenProcessPool as exc:
            self._discard(executor)
            raise ParseWorkerError(f"a parse worker died: {exc}") from exc

    def result(self, future: Future[_Outcome]) -> FileParse:
        """The FileParse of one submitted file, or its InputError, or ParseWorkerError."""
        try:
            while True:
                try:
                    status, value, message, file = future.result(timeout=0.5)
                    break
                except FuturesTimeout:
                    # After terminate() (shutdown) the executor may never resolve a
                    # future whose worker it lost; the caller must not wait forever.
                    if self._terminated:
                        raise ParseWorkerError(
                            "the parse pool was terminated (server shutting down); "
                            "the migration set was not reviewed"
                        ) from None
        except BrokenProcessPool as exc:
            with self._lock:
                executor = self._executor
            if executor is not None:
                self._discard(executor)
            raise ParseWorkerError(
                f"a parse worker died ({exc}); the migration set was not reviewed"
            ) from exc
        if status == "error":
            raise _rebuild(value, message, file)
        result: FileParse = value
        return result

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Close without waiting: cancel queued files and kill busy workers (shutdown)."""
        with self._lock:
            self._closed = self._terminated = True
            executor, self._executor = self._executor, None
        if executor is None:
            return
        # ProcessPoolExecutor has no public kill; its worker map is the documented-by-
        # source way to reach the processes (shutdown(wait=False) leaves them running).
        # Kill first: the executor's manager then fails every pending future with
        # BrokenProcessPool (after a shutdown it would leave running ones unresolved).
        workers = list((getattr(executor, "_processes", None) or {}).values())
        for process in workers:
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
