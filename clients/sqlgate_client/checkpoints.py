"""Signed audit checkpoints a client was shown, kept outside the server's store.

Check and ReportExecution answer with the signed checkpoint of the event they recorded.
Kept by the caller (the runner in ``<state dir>/checkpoints/``, CI in its check JSON),
it is the outside anchor ``sqlgate audit verify --checkpoint FILE`` needs to prove the
store was not truncated or rewritten since (docs/audit.md). The file format is the one
the server exports: a JSON object with sequence, hash, at, key_id, base64 signature.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from sqlgate_client.gen.sqlgate.v1 import common_pb2


def checkpoint_dict(cp: common_pb2.AuditCheckpoint) -> dict[str, Any]:
    return {
        "sequence": cp.sequence,
        "hash": cp.hash,
        "at": cp.at,
        "key_id": cp.key_id,
        "signature": base64.b64encode(cp.signature).decode("ascii"),
    }


def keep(directory: Path, cp: common_pb2.AuditCheckpoint) -> Path:
    """Write ``<directory>/<sequence>.json`` (write, fsync, rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{cp.sequence}.json"
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(checkpoint_dict(cp), sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path
