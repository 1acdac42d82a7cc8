"""IsolatedEngine: real worker processes, a real runaway Rego policy, real SIGKILLs.

The runaway is a quadratic comprehension over ``numbers.range(1, input.spin)`` whose filter
never matches: little memory, ``spin**2`` iterations (regorus does ~2.5 M/s here, so
spin 20,000 runs for minutes and spin 10,000 for about 40 s). Proof that a call returned
without waiting for it is that its worker process is gone and a new one answers.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlgate.config import ServerConfig, config_from_mapping
from sqlgate.errors import ConfigError, PolicyEvaluationError, PolicyLoadError, PolicyTimeout
from sqlgate.policy.bundle import PolicyFile, PolicySet, load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.factory import load_engine
from sqlgate.policy.isolated import IsolatedEngine

from .conftest import POLICIES

SPIN_POLICY = """package sqlgate.main

import rego.v1

default spin := 0

# Quadratic and never true: runs for spin**2 iterations, then counts 0.
spin := count([1 |
	some i in numbers.range(1, input.spin)
	some j in numbers.range(1, input.spin)
	i + j < 0
]) if input.spin > 0

result := {"decision": "allow", "findings": [{
	"rule": "echo", "level": "warn", "statement": 0, "file": "f.sql", "line": 1,
	"column": 1, "message": input.tag, "help": sprintf("spin counted %d", [spin]),
}]}
"""
RUNAWAY = 20_000  # minutes of evaluation
SLOW = 10_000  # tens of seconds: long enough to be killed mid-evaluation


@pytest.fixture(scope="module")
def spin_set(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    root = tmp_path_factory.mktemp("spin")
    (root / "main.rego").write_text(SPIN_POLICY)
    return load_policy_set(root)


@pytest.fixture
def one_worker(spin_set: PolicySet) -> Iterator[IsolatedEngine]:
    engine = IsolatedEngine(spin_set, timeout_s=2.0, workers=1)
    yield engine
    engine.close()


def _echo(engine: IsolatedEngine, tag: str, spin: int = 0) -> str:
    result = engine.evaluate({"tag": tag, "spin": spin})
    assert result.decision == "allow"
    assert result.findings[0].help == "spin counted 0"
    return result.findings[0].message


def _gone(pid: int) -> bool:
    """The process no longer runs (reaped, or a zombie awaiting its parent)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _wait_for(predicate: Any, what: str, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def test_evaluates_like_the_thread_engine(one_worker: IsolatedEngine) -> None:
    assert _echo(one_worker, "hello") == "hello"
    assert _echo(one_worker, "slow-but-fine", spin=300) == "slow-but-fine"


def test_runaway_times_out_at_once_and_its_worker_is_replaced(
    one_worker: IsolatedEngine,
) -> None:
    [old_pid] = one_worker.worker_pids()
    started = time.monotonic()
    with pytest.raises(PolicyTimeout, match="exceeded 2s"):
        _echo(one_worker, "runaway", spin=RUNAWAY)
    elapsed = time.monotonic() - started
    # The runaway needs minutes; the call came back around its 2 s budget.
    assert elapsed < 30, elapsed
    assert _gone(old_pid), "the overrunning worker still runs"
    # The next evaluation on the same engine is answered, correctly, by a fresh worker.
    assert _echo(one_worker, "after") == "after"
    [new_pid] = one_worker.worker_pids()
    assert new_pid != old_pid


def test_timeouts_do_not_shrink_the_pool(spin_set: PolicySet) -> None:
    with IsolatedEngine(spin_set, timeout_s=1.0, workers=2) as engine:
        for _ in range(3):
            with pytest.raises(PolicyTimeout):
                _echo(engine, "runaway", spin=RUNAWAY)
        assert [_echo(engine, f"t{i}") for i in range(4)] == ["t0", "t1", "t2", "t3"]
        _wait_for(lambda: len(engine.worker_pids()) == 2, "the pool to refill")


def test_sigkilled_worker_is_an_error_and_the_engine_recovers(spin_set: PolicySet) -> None:
    with (
        IsolatedEngine(spin_set, timeout_s=600.0, workers=1) as engine,
        ThreadPoolExecutor(1) as pool,
    ):
        [pid] = engine.worker_pids()
        pending = pool.submit(_echo, engine, "doomed", SLOW)
        _wait_for(lambda: engine.worker_pids().get(pid) is True, "the worker to be busy")
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(PolicyEvaluationError, match="died during evaluation") as info:
            pending.result(timeout=60)
        assert not isinstance(info.value, PolicyTimeout)
        assert "exit -9" in str(info.value)
        assert _echo(engine, "recovered") == "recovered"
        assert pid not in engine.worker_pids()


def test_worker_killed_while_idle_is_replaced_before_use(spin_set: PolicySet) -> None:
    with IsolatedEngine(spin_set, timeout_s=5.0, workers=1) as engine:
        [pid] = engine.worker_pids()
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: _gone(pid), "the killed worker to exit")
        # Nothing was being evaluated on it: the call is served by its replacement.
        assert _echo(engine, "fine") == "fine"
        assert pid not in engine.worker_pids()


def test_concurrent_evaluations_from_8_threads(spin_set: PolicySet) -> None:
    tags = [f"caller-{i}" for i in range(64)]
    with (
        IsolatedEngine(spin_set, timeout_s=30.0, workers=2) as engine,
        ThreadPoolExecutor(8) as pool,
    ):
        answers = list(pool.map(lambda t: _echo(engine, t, spin=50 + len(t)), tags))
    assert answers == tags


def test_engine_errors_fail_closed(tmp_path: Path) -> None:
    (tmp_path / "main.rego").write_text(
        "package sqlgate.main\n\nimport rego.v1\n\n"
        'result := {"decision": "allow", "findings": [to_number(input.x)]}\n'
        'bad := {"decision": "allow", "findings": [{"level": "deny"}]}\n'
        "nothing := 1 if false\n"
    )
    policy_set = load_policy_set(tmp_path)
    with IsolatedEngine(policy_set) as engine:
        with pytest.raises(PolicyEvaluationError, match="policy evaluation failed") as info:
            engine.evaluate({"x": "not a number"})
        assert "Stack backtrace" not in str(info.value)
        with pytest.raises(PolicyEvaluationError, match="not JSON"):
            engine.evaluate({"x": float("nan")})
    with (
        IsolatedEngine(policy_set, query="data.sqlgate.main.nothing") as engine,
        pytest.raises(PolicyEvaluationError, match="undefined"),
    ):
        engine.evaluate({})
    with (
        IsolatedEngine(policy_set, query="data.sqlgate.main.bad") as engine,
        pytest.raises(PolicyEvaluationError, match="malformed policy result"),
    ):
        engine.evaluate({})


def test_a_set_that_does_not_compile_in_the_worker_fails_construction(
    spin_set: PolicySet,
) -> None:
    broken = dataclasses.replace(
        spin_set, modules=(PolicyFile("broken.rego", "package broken\n\nx := {"),)
    )
    with pytest.raises(PolicyLoadError, match=r"broken\.rego"):
        IsolatedEngine(broken)


def test_closed_engine_refuses(spin_set: PolicySet) -> None:
    engine = IsolatedEngine(spin_set, workers=2)
    pids = list(engine.worker_pids())
    engine.close()
    assert engine.worker_pids() == {}
    assert all(_gone(pid) for pid in pids)
    with pytest.raises(PolicyEvaluationError, match="closed"):
        engine.evaluate({"tag": "late"})


def test_config_selects_the_isolation() -> None:
    assert ServerConfig().policies.isolation == "process"
    config = config_from_mapping({"policies": {"dir": str(POLICIES), "isolation": "thread"}})
    thread_engine = load_engine(config)
    assert isinstance(thread_engine, EmbeddedEngine)
    thread_engine.close()
    process_engine = load_engine(config_from_mapping({"policies": {"dir": str(POLICIES)}}))
    assert isinstance(process_engine, IsolatedEngine)
    assert process_engine.policy_digest == thread_engine.policy_digest
    process_engine.close()
    with pytest.raises(ConfigError, match="isolation"):
        config_from_mapping({"policies": {"isolation": "none"}})


@pytest.fixture(scope="module")
def shipped_pair(policy_set: PolicySet) -> Iterator[tuple[EmbeddedEngine, IsolatedEngine]]:
    thread_engine = EmbeddedEngine(policy_set)
    process_engine = IsolatedEngine(policy_set)
    yield thread_engine, process_engine
    process_engine.close()
    thread_engine.close()


def _rule_dirs() -> list[Path]:
    return sorted(p for p in (POLICIES / "rules").glob("*/*") if p.is_dir())


@pytest.mark.parametrize("rule_dir", _rule_dirs(), ids=lambda p: p.name)
def test_same_results_as_thread_mode_on_the_rule_fixtures(
    shipped_pair: tuple[EmbeddedEngine, IsolatedEngine], rule_dir: Path
) -> None:
    from . import test_fixtures as fixtures  # skips itself when the parser is missing

    thread_engine, process_engine = shipped_pair
    for name in ("bad.sql", "good.sql"):
        doc = fixtures._input(rule_dir / name)
        assert process_engine.evaluate(doc) == thread_engine.evaluate(doc)
    assert process_engine.evaluate(fixtures._input(rule_dir / "bad.sql")).findings
