"""A content-addressed, bounded, thread-safe LRU of per-file parse results.

A file whose exact bytes were already parsed, for the same dialect, the same values of
the placeholders it uses and the same parser code, parses to the same statements: the
cache returns them instead of parsing again. The key is a sha256 over all of that, so a
changed byte, dialect, used variable or version (sqlgate's own parse/model sources
included, since its version number does not move while the code does) is a miss.

Entries hold a file's statements with file-local ``index`` and ``in_transaction`` as
``parse_migrations`` built them; the caller renumbers ``index`` across the set and
rebinds ``file`` (the path is not part of the key: the same bytes under two paths
share one entry). Failures are never cached: a file that raises is parsed (and raises)
again every time.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sqlgate.model import Statement
from sqlgate.observe.metrics import PARSE_CACHE

# Rough per-statement overhead (object, dicts, tuples, small strings) on top of its text,
# measured with tracemalloc on the corpus; only used for the approximate byte bound.
_STATEMENT_OVERHEAD = 1200


@dataclass(frozen=True)
class FileParse:
    """One file's parse: statements (file-local index), segment count, nesting records.

    ``depth_records`` are the (line, depth) of each segment deeper than every segment
    before it: the first segment over any nesting limit is always one of them, so the
    limit can be re-checked on a cache hit with the exact message of a fresh parse.
    """

    statements: tuple[Statement, ...]
    segments: int
    depth_records: tuple[tuple[int, int], ...]

    def approx_bytes(self) -> int:
        return sum(2 * len(s.text) + _STATEMENT_OVERHEAD for s in self.statements) + 200


def _distribution(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _source_digest() -> str:
    """sha256 over sqlgate's parse and model sources: the code that shapes a FileParse."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for sub in ("parse", "model"):
        for path in sorted((root / sub).glob("*.py")):
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def current_versions() -> tuple[str, ...]:
    """Everything whose change changes the model of the same bytes."""
    return (
        f"sqlgate={_distribution('sqlgate')}",
        f"sqlgate-src={_source_digest()}",
        f"sqlglot={_distribution('sqlglot')}",
        f"sqlglotc={_distribution('sqlglotc')}",
        f"pglast={_distribution('pglast')}",
        f"python={sys.version_info[0]}.{sys.version_info[1]}",
    )


VERSIONS: tuple[str, ...] = current_versions()


def cache_key(
    content: bytes,
    dialect: str,
    used_variables: Mapping[str, str],
    versions: tuple[str, ...] = VERSIONS,
) -> str:
    """The cache key of one file: its bytes, dialect, the placeholder values it uses, versions.

    ``used_variables`` must hold exactly the supplied values of the placeholders the file
    contains (unused variables cannot change its parse and would only cost hits).
    """
    h = hashlib.sha256()
    pairs = sorted(used_variables.items())
    for part in (
        hashlib.sha256(content).hexdigest(),
        dialect,
        str(len(pairs)),
        *(x for pair in pairs for x in pair),
        *versions,
    ):
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    approx_bytes: int

    def log_line(self) -> str:
        total = self.hits + self.misses
        rate = 100.0 * self.hits / total if total else 0.0
        return (
            f"parse cache: {self.hits} hits, {self.misses} misses ({rate:.1f} % hit), "
            f"{self.entries} entries, ~{self.approx_bytes // 1024} KiB"
        )


class ParseCache:
    """LRU of FileParse by key, bounded by entry count and approximate bytes."""

    def __init__(self, max_entries: int = 20_000, max_bytes: int = 256 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("cache bounds must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[FileParse, int]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> FileParse | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self._misses += 1
                PARSE_CACHE.labels(result="miss").inc()
                return None
            self._items.move_to_end(key)
            self._hits += 1
            PARSE_CACHE.labels(result="hit").inc()
            return item[0]

    def put(self, key: str, value: FileParse) -> None:
        size = value.approx_bytes()
        if size > self.max_bytes:
            return  # larger than the whole cache: keeping it would evict everything
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._items), self._bytes)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
