"""A runaway policy on a real server (policies.isolation: process): the Check that triggers
it is denied with a policy-engine-error at its budget, and the server keeps answering
other Checks while the runaway is in flight (in thread mode regorus would hold the GIL
and stall them until it finished, minutes later)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from serving import address_of, serving
from sqlgate.config import PolicyConfig, ServerConfig, with_overrides
from sqlgate.policy.isolated import IsolatedEngine
from sqlgate.policy.reload import ReloadingEngine
from sqlgate_client.check import MigrationInput, check_remote

POLICY = """package sqlgate.main

import rego.v1

default n := 0

n := 20000 if {
	some s in input.statements
	contains(s.text, "spin_forever")
}

# Quadratic and never true: 20,000**2 iterations run for minutes.
default spin := 0

spin := count([1 |
	some i in numbers.range(1, n)
	some j in numbers.range(1, n)
	i + j < 0
]) if n > 0

result := {"decision": "allow", "findings": []} if spin == 0
"""
BUDGET_S = 6.0


def _check(address: str, sql: bytes) -> dict[str, Any]:
    return check_remote(
        address,
        migrations=[MigrationInput("V1__x.sql", sql)],
        token=os.environ["SQLGATE_TOKEN"],
        timeout=120,
        environment="production",
        target="main-db",
        dialect="postgres",
    )


def test_runaway_is_denied_at_its_budget_and_the_server_keeps_serving(
    tmp_path: Path, trusted: Callable[[ServerConfig], ServerConfig]
) -> None:
    (tmp_path / "main.rego").write_text(POLICY)
    policies = PolicyConfig(dir=tmp_path, timeout_s=BUDGET_S, isolation="process")
    config = dataclasses.replace(
        trusted(with_overrides(ServerConfig(), listen="127.0.0.1:0")), policies=policies
    )
    with serving(config) as running, ThreadPoolExecutor(1) as pool:
        assert isinstance(running.engine, ReloadingEngine)
        engine = running.engine.current
        assert isinstance(engine, IsolatedEngine)
        address = address_of(running)
        assert _check(address, b"SELECT 1;\n")["decision"] == "allow"

        started = time.monotonic()
        runaway = pool.submit(_check, address, b"SELECT 'spin_forever';\n")
        deadline = started + BUDGET_S
        while not any(engine.worker_pids().values()):
            assert time.monotonic() < deadline, "the runaway never reached a worker"
            time.sleep(0.02)
        # Mid-runaway, another Check is reviewed normally by the other worker.
        assert _check(address, b"SELECT 2;\n")["decision"] == "allow"
        assert not runaway.done(), "the runaway ended before the second Check was answered"

        denied = runaway.result(timeout=120)
        elapsed = time.monotonic() - started
        assert denied["decision"] == "deny"
        [finding] = denied["findings"]
        assert finding["rule"] == "policy-engine-error"
        assert "exceeded" in finding["message"]
        assert elapsed < BUDGET_S + 30, elapsed  # the runaway itself needs minutes
        assert _check(address, b"SELECT 3;\n")["decision"] == "allow"
