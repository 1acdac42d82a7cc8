"""Fixtures for the policy tests: the shipped policy set, an engine over it, a tree copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlgate.policy.bundle import PolicySet, load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine

# SQLGATE_TEST_POLICIES runs these tests against another tree (e.g. a clean checkout).
POLICIES = Path(
    os.environ.get("SQLGATE_TEST_POLICIES", Path(__file__).resolve().parents[2] / "policies")
)


@pytest.fixture(scope="session")
def policy_set() -> PolicySet:
    return load_policy_set(POLICIES)


@pytest.fixture(scope="session")
def engine(policy_set: PolicySet) -> Iterator[EmbeddedEngine]:
    eng = EmbeddedEngine(policy_set)
    yield eng
    eng.close()


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A private copy of policies/ that a test may edit."""
    dest = tmp_path / "policies"
    shutil.copytree(POLICIES, dest)
    return dest
