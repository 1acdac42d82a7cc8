"""``-- sqlgate:batch key=id size=1000 pause=50ms`` directives in comments before a statement."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlgate.model import Batch

_DIRECTIVE = re.compile(r"sqlgate:batch\b(?P<args>[^\n*]*)")
_ARG = re.compile(r"(\w+)=(\S+)")
_PAUSE = re.compile(r"(\d+)(ms|s)?$")


def batch_directive(comments: Sequence[str]) -> Batch | None:
    """The batch directive in the comments directly before a statement, if any."""
    for comment in reversed(comments):
        m = _DIRECTIVE.search(comment)
        if m is None:
            continue
        args = dict(_ARG.findall(m.group("args")))
        size = args.get("size")
        pause = _PAUSE.match(args.get("pause", ""))
        pause_ms = None
        if pause:
            pause_ms = int(pause.group(1)) * (1000 if pause.group(2) == "s" else 1)
        return Batch(
            key=args.get("key"),
            size=int(size) if size and size.isdigit() else None,
            pause_ms=pause_ms,
        )
    return None
