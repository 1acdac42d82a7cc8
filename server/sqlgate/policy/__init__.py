"""Policy evaluation: load the Rego tree, evaluate it (embedded or remote OPA), test it."""

from sqlgate.policy.bundle import PolicySet, load_policy_set
from sqlgate.policy.engine import Engine, PolicyFinding, PolicyResult

__all__ = ["Engine", "PolicyFinding", "PolicyResult", "PolicySet", "load_policy_set"]
