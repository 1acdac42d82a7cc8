"""Which file undoes a migration, for the rehearsal's rollback test.

In this order: a compensating file declared in the metadata (``rollback:
compensating`` + ``rollback_file``, relative to the migration's directory or, failing
that, to the working directory); a down file by the migration tool's convention
(``sqlgate_client.rollback``). ``rollback: transactional`` and ``rollback: none`` have
no script to run: the test reports them as missing, with the declared strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from sqlgate_client.metaheader import header_block
from sqlgate_client.rollback import down_candidates


@dataclass(frozen=True)
class RollbackSource:
    path: str | None
    why: str  # "down file", "compensating file", or why there is none


def _metadata(path: str, data: bytes) -> dict[str, object]:
    sidecar = Path(path).with_name(Path(path).name + ".yaml")
    try:
        if sidecar.exists():
            raw = yaml.safe_load(sidecar.read_bytes())
        else:
            header = header_block(data.decode("utf-8-sig"))
            raw = yaml.safe_load(header) if header else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}  # reconcile.checks_of reports unreadable metadata
    return raw if isinstance(raw, dict) else {}


def rollback_for(path: str, data: bytes) -> RollbackSource:
    meta = _metadata(path, data)
    strategy = meta.get("rollback")
    if strategy == "compensating" and isinstance(meta.get("rollback_file"), str):
        declared = str(meta["rollback_file"])
        beside = str(PurePosixPath(path).parent / declared)
        for candidate in (beside, declared):
            if Path(candidate).is_file():
                return RollbackSource(candidate, "compensating file")
        return RollbackSource(None, f"declared rollback_file {declared} not found")
    for candidate in down_candidates(path):
        if Path(candidate).is_file():
            return RollbackSource(candidate, "down file")
    if strategy in ("transactional", "none"):
        return RollbackSource(None, f"rollback: {strategy} (no script to run)")
    return RollbackSource(None, "no down file or compensating file")
