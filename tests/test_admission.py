"""sqlgate.rpc.admission: the large-request lane (FIFO, bounded queue, close)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlgate.config import LimitsConfig
from sqlgate.errors import ConfigError, Overloaded
from sqlgate.rpc.admission import Admission, check_threads

LIMITS = LimitsConfig(large_request_bytes=100, max_large_running=1, max_large_queued=2)


def _hold(
    admission: Admission,
    size: int,
    entered: threading.Event,
    release: threading.Event,
    order: list[int],
    tag: int,
    errors: list[BaseException],
) -> Callable[[], None]:
    def run() -> None:
        try:
            with admission.admit(size):
                order.append(tag)
                entered.set()
                release.wait(30)
        except BaseException as exc:
            errors.append(exc)
            entered.set()

    return run


def test_small_requests_never_wait_and_large_ones_take_turns_in_order() -> None:
    admission = Admission(LIMITS)
    order: list[int] = []
    errors: list[BaseException] = []
    release = threading.Event()
    first = threading.Event()
    threads = [threading.Thread(target=_hold(admission, 500, first, release, order, 0, errors))]
    threads[0].start()
    assert first.wait(10)
    waiting = []
    for tag in (1, 2):
        ev = threading.Event()
        waiting.append(ev)
        t = threading.Thread(target=_hold(admission, 500, ev, release, order, tag, errors))
        t.start()
        threads.append(t)
    deadline = threading.Event()
    while admission.stats() != (1, 2) and not deadline.wait(0.01):
        pass
    assert admission.stats() == (1, 2)
    # The queue is full: the next large request is refused at once, with the reason.
    full = r"1 large review\(s\) running and 2 queued"
    with pytest.raises(Overloaded, match=full), admission.admit(500):
        pass
    # A small one is not queued at all.
    with admission.admit(99):
        assert admission.stats() == (1, 2)
    release.set()
    for t in threads:
        t.join(10)
    assert order == [0, 1, 2] and not errors
    assert admission.stats() == (0, 0)


def test_close_refuses_queued_and_new_large_requests() -> None:
    admission = Admission(LIMITS)
    order: list[int] = []
    errors: list[BaseException] = []
    release, first, second = threading.Event(), threading.Event(), threading.Event()
    running = threading.Thread(target=_hold(admission, 500, first, release, order, 0, errors))
    running.start()
    assert first.wait(10)
    queued = threading.Thread(target=_hold(admission, 500, second, release, order, 1, errors))
    queued.start()
    while admission.stats() != (1, 1):
        second.wait(0.01)
    admission.close()
    assert second.wait(10)
    assert [type(e) for e in errors] == [Overloaded] and "shutting down" in str(errors[0])
    with pytest.raises(Overloaded, match="shutting down"), admission.admit(500):
        pass
    assert admission.wait_idle(0.05) == 1  # the running one is still running
    release.set()
    running.join(10)
    queued.join(10)
    assert admission.wait_idle(5) == 0


def test_a_queued_request_gives_up_at_its_deadline() -> None:
    admission = Admission(LIMITS)
    late = pytest.raises(Overloaded, match=r"waited 0\.2s")
    with admission.admit(500), late, admission.admit(500, deadline_s=0.2):
        pass


def test_threads_must_leave_room_for_small_checks() -> None:
    check_threads(LimitsConfig(), 8)
    with pytest.raises(ConfigError, match="max_workers \\(6\\) must be at least"):
        check_threads(LimitsConfig(), 6)
