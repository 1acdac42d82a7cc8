"""Single use under contention: two OS processes redeem the same token at the same instant.

Each round both processes wait on a barrier and then redeem one fresh token through their
own store connection; exactly one must win and the other must get AlreadyRedeemed.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from sqlgate.errors import AlreadyRedeemed
from sqlgate.store import open_store

from store.conftest import Backend
from store.records import T0, token, verdict

ROUNDS = 20


def _redeemer(url: str, runner: str, barrier: Any, results: Any) -> None:
    store = open_store(url)
    try:
        for round_no in range(ROUNDS):
            barrier.wait(timeout=60)
            try:
                store.redeem_token(f"race-{round_no}", runner=runner, now=T0)
                results.put((round_no, "won"))
            except AlreadyRedeemed:
                results.put((round_no, "already"))
            except Exception as exc:
                results.put((round_no, f"error: {exc!r}"))
    finally:
        store.close()


@pytest.mark.slow
def test_exactly_one_process_redeems_each_round(backend: Backend) -> None:
    for round_no in range(ROUNDS):  # one verdict per round: a verdict executes once
        backend.store.put_verdict(verdict(f"v-{round_no}"))
        backend.store.put_token(token(f"race-{round_no}", f"v-{round_no}"))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_redeemer, args=(backend.url, "runner:deploy", barrier, results))
        for _ in range(2)
    ]
    for proc in procs:
        proc.start()
    outcomes: dict[int, list[str]] = {}
    for _ in range(2 * ROUNDS):
        round_no, outcome = results.get(timeout=120)
        outcomes.setdefault(round_no, []).append(outcome)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    assert sorted(outcomes) == list(range(ROUNDS))
    for round_no, seen in outcomes.items():
        assert sorted(seen) == ["already", "won"], (round_no, seen)
    for round_no in range(ROUNDS):
        redeemed = backend.store.get_token(f"race-{round_no}").redeemed_at
        assert redeemed is not None and redeemed <= T0 + timedelta(0)
