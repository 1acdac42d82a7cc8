"""Crash-test hook: ``SQLGATE_FAULT=<point>`` kills the process at that point.

Crash-safety can only be tested by crashing the real server at the worst moment; this is
the one place that can happen. The variable is read once, when the module is imported
(at start-up); unset (always, in production) every ``point`` call is a string compare
and nothing else. When set, the process ends with ``os._exit(137)`` — no cleanup, no
commit, no flushing — exactly like ``kill -9``. The points are listed in ``POINTS`` and
in docs/design-notes.md.
"""

from __future__ import annotations

import os
import sys
from typing import Final

POINTS: Final = frozenset(
    {
        # inside Approve's unit of work: new verdict written, its approvals not yet
        "approve:verdict-stored",
        # inside IssueToken's unit: break-glass consumed, token not yet stored
        "issue:break-glass-consumed",
        # inside RedeemToken's unit: token marked used, its audit event not yet appended
        "redeem:token-redeemed",
        # inside ReportExecution's unit: report stored, its audit event not yet appended
        "report:recorded",
    }
)

_ARMED: Final = os.environ.get("SQLGATE_FAULT", "")


def armed() -> str:
    """The armed point ("" when none); ``sqlgate serve`` warns loudly when one is."""
    return _ARMED


def point(name: str) -> None:
    """Die here, as by ``kill -9``, if ``SQLGATE_FAULT`` names this point."""
    if _ARMED and name == _ARMED:
        sys.stderr.write(f"sqlgate: SQLGATE_FAULT={name}: exiting with 137\n")
        sys.stderr.flush()
        os._exit(137)
