"""Where a migration's down (rollback) file lives, by the migration tool's convention.

Shared by both sides (stdlib only): the CLI looks for these files beside each migration
and sends the ones that exist as ``CheckRequest.rollback_files``; the server pairs them
with the migrations by the same names for the ``rollback-missing`` rule.

- golang-migrate: ``12_x.up.sql`` → ``12_x.down.sql``
- Flyway: ``V12__x.sql`` → ``U12__x.sql`` (undo migration)
- directory per migration (diesel, sqlx): ``…/up.sql`` → ``…/down.sql``
- anything else: ``x.sql`` → ``x.down.sql``
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import PurePosixPath

_FLYWAY = re.compile(r"^V(?P<rest>\d+(?:[._]\d+)*__.*\.sql)$", re.IGNORECASE)
_UP = re.compile(r"^(?P<stem>.*)\.up\.sql$", re.IGNORECASE)


def down_candidates(path: str) -> list[str]:
    """The paths (same directory, forward slashes) a down file of ``path`` may have."""
    p = PurePosixPath(path)
    name = p.name
    if m := _UP.match(name):
        names = [f"{m.group('stem')}.down.sql"]
    elif m := _FLYWAY.match(name):
        names = [f"U{m.group('rest')}"]
    elif name.lower() == "up.sql":
        names = ["down.sql"]
    elif name.lower().endswith(".sql"):
        names = [f"{name[:-4]}.down.sql"]
    else:
        names = []
    return [str(p.with_name(n)) for n in names]


def down_file_for(path: str, rollback_files: Collection[str]) -> str | None:
    """The declared down file that pairs with ``path``, if any."""
    return next((c for c in down_candidates(path) if c in rollback_files), None)
