"""``--format json``: exactly one JSON object, the result dict as it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

FORMAT = "json"


def render(result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """One JSON object with stable key order; ``sources`` is not needed here."""
    del sources
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"
