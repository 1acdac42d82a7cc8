"""Hypothesis profiles: a modest default; SQLGATE_FUZZ_PROFILE=long for long runs.

``SQLGATE_FUZZ_EXAMPLES`` overrides the example count of either profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_EXAMPLES = os.environ.get("SQLGATE_FUZZ_EXAMPLES")
_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("default", max_examples=int(_EXAMPLES or 40), **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=int(_EXAMPLES or 5000), **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("SQLGATE_FUZZ_PROFILE", "default"))
