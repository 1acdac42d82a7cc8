"""The evaluation budget grows with the statement count (EmbeddedEngine.budget_s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate.config import config_from_mapping
from sqlgate.errors import ConfigError, PolicyTimeout
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.factory import load_engine
from sqlgate.policy.isolated import IsolatedEngine

from .inputs import policy_input, stmt


def _engine(
    tmp_path: Path, body: str, *, timeout_s: float = 5.0, timeout_per_1k_statements_s: float = 0.0
) -> EmbeddedEngine:
    (tmp_path / "main.rego").write_text("package sqlgate.main\n\nimport rego.v1\n\n" + body)
    return EmbeddedEngine(
        load_policy_set(tmp_path),
        timeout_s=timeout_s,
        timeout_per_1k_statements_s=timeout_per_1k_statements_s,
        workers=1,
    )


ALLOW = 'result := {"decision": "allow", "findings": []}\n'


def test_budget_is_base_plus_allowance_per_1k_statements(tmp_path: Path) -> None:
    eng = _engine(tmp_path, ALLOW, timeout_s=2.0, timeout_per_1k_statements_s=0.5)
    try:
        assert eng.budget_s(policy_input([])) == 2.0
        many = policy_input([stmt("select", i) for i in range(4000)])
        assert eng.budget_s(many) == pytest.approx(4.0)
        assert eng.budget_s({"statements": "not a list"}) == 2.0
    finally:
        eng.close()


def test_without_allowance_the_budget_is_fixed(tmp_path: Path) -> None:
    eng = _engine(tmp_path, ALLOW, timeout_s=3.0)
    try:
        assert eng.budget_s(policy_input([stmt("select", i) for i in range(5000)])) == 3.0
    finally:
        eng.close()


def test_a_negative_allowance_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timeout_per_1k_statements_s"):
        _engine(tmp_path, ALLOW, timeout_per_1k_statements_s=-1.0)


def test_overrun_reports_the_scaled_budget(tmp_path: Path) -> None:
    # ~1 s of work against 10 ms + 10 ms per 1k statements: still denied, and the message
    # names the budget this input had.
    body = (
        "n := count([i | some i in numbers.range(1, 3000000); i % 7 == 0])\n\n"
        'result := {"decision": "allow", "findings": []} if n > 0\n'
    )
    eng = _engine(tmp_path, body, timeout_s=0.01, timeout_per_1k_statements_s=0.01)
    try:
        with pytest.raises(PolicyTimeout, match=r"0\.03s"):
            eng.evaluate(policy_input([stmt("select", i) for i in range(2000)]))
    finally:
        eng.close()


def test_config_section_sets_the_allowance_and_the_app_engine_uses_it() -> None:
    config = config_from_mapping(
        {"policies": {"timeout_s": 2, "timeout_per_1k_statements_s": 0.25}}
    )
    assert config.policies.timeout_per_1k_statements_s == 0.25
    eng = load_engine(config)
    assert isinstance(eng, EmbeddedEngine | IsolatedEngine)  # per policies.isolation
    try:
        assert eng.budget_s(policy_input([stmt("select", i) for i in range(8000)])) == 4.0
    finally:
        eng.close()


def test_config_refuses_a_non_positive_allowance() -> None:
    with pytest.raises(ConfigError, match="timeout_per_1k_statements_s"):
        config_from_mapping({"policies": {"timeout_per_1k_statements_s": 0}})
