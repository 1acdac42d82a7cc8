"""Log output for ``sqlgate serve``: ``text`` for people, ``json`` (one object per line)
for log pipelines. An RPC line's fields (``sqlgate.observe.calls``) become top-level keys
of its JSON object."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...rpc fields}``, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        rpc = getattr(record, "rpc", None)
        if isinstance(rpc, dict):
            doc["msg"] = "rpc"
            doc.update({k: v for k, v in rpc.items() if v is not None})
        else:
            doc["msg"] = record.getMessage()
        if record.exc_info:
            doc["error"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str, fmt: str) -> None:
    """Configure the root logger on stderr; ``fmt`` is one of LOG_FORMATS."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r} (expected text or json)")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
