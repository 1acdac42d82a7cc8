"""The content-addressed parse cache: same output as a plain parse, keys, bounds, threads."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlgate.errors import EncodingError, LimitExceeded, PlaceholderError
from sqlgate.parse import Limits, ParseCache, ParsedSet, SourceFile, parse_file, parse_migrations
from sqlgate.parse.cache import VERSIONS, FileParse, cache_key

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def dump(result: ParsedSet) -> str:
    return json.dumps(
        {
            "statements": [s.to_json() for s in result.statements],
            "count": result.statement_count,
            "files": [(f.path, f.sha256, f.statements) for f in result.files],
        },
        sort_keys=True,
    )


def outcome(files: list[SourceFile], dialect: str, **kw: Any) -> str:
    """The JSON of the parse, or the error's class, message and file."""
    try:
        return dump(parse_migrations(files, dialect, **kw))  # type: ignore[arg-type]
    except (EncodingError, LimitExceeded, PlaceholderError) as exc:
        return f"{type(exc).__name__}|{exc}|{exc.file}"


def corpus_sample(dialect: str, n: int, seed: int) -> list[SourceFile]:
    root = CORPUS / dialect
    if not root.is_dir():
        pytest.skip(f"corpus not found at {root}")
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    rng = random.Random(seed)
    return [SourceFile(str(p), p.read_bytes()) for p in rng.sample(paths, n)]


PG = SourceFile(
    "001.sql",
    b"BEGIN;\nCREATE TABLE a (id int primary key);\n"
    b"ALTER TABLE a ADD COLUMN b text;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON a (b);\n",
)
PG2 = SourceFile(
    "002.sql", b"BEGIN;\nUPDATE a SET b = 'x' WHERE id = 1;\nDELETE FROM a;\nCOMMIT;\n"
)


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_corpus_sample_identical_cold_and_warm(dialect: str) -> None:
    files = corpus_sample(dialect, 60, seed=7)
    cache = ParseCache()
    for f in files:
        plain = outcome([f], dialect)
        assert outcome([f], dialect, cache=cache) == plain  # cold
        assert outcome([f], dialect, cache=cache) == plain  # warm
    assert cache.stats().hits > 0


def test_set_indexes_and_transactions_renumbered_on_hits() -> None:
    cache = ParseCache()
    plain = dump(parse_migrations([PG, PG2], "postgres"))
    parse_migrations([PG2], "postgres", cache=cache)  # PG2 cached at file-local indexes
    assert dump(parse_migrations([PG, PG2], "postgres", cache=cache)) == plain
    assert dump(parse_migrations([PG, PG2], "postgres", cache=cache)) == plain
    indexes = [s.index for s in parse_migrations([PG, PG2], "postgres", cache=cache).statements]
    assert indexes == list(range(len(indexes)))
    assert cache.stats().hits >= 3


def test_same_bytes_under_two_paths() -> None:
    cache = ParseCache()
    other = SourceFile("elsewhere/001.sql", PG.content)
    parse_migrations([PG], "postgres", cache=cache)
    got = parse_migrations([other], "postgres", cache=cache)
    assert cache.stats().hits == 1
    assert dump(got) == dump(parse_migrations([other], "postgres"))
    assert {s.file for s in got.statements} == {"elsewhere/001.sql"}
    both = [PG, other]
    assert dump(parse_migrations(both, "postgres", cache=cache)) == dump(
        parse_migrations(both, "postgres")
    )


def test_key_sensitive_to_byte_dialect_variables_versions() -> None:
    base = cache_key(b"SELECT 1;", "postgres", {})
    assert cache_key(b"SELECT 1;", "postgres", {}) == base
    assert cache_key(b"SELECT 2;", "postgres", {}) != base
    assert cache_key(b"SELECT 1; ", "postgres", {}) != base
    assert cache_key(b"SELECT 1;", "mysql", {}) != base
    assert cache_key(b"SELECT 1;", "postgres", {"a": "1"}) != base
    assert cache_key(b"SELECT 1;", "postgres", {"a": "1"}) != cache_key(
        b"SELECT 1;", "postgres", {"a": "2"}
    )
    # no ambiguity between how parts are cut
    assert cache_key(b"x", "postgres", {"a": "b=c"}) != cache_key(b"x", "postgres", {"a=b": "c"})
    for i in range(len(VERSIONS)):
        changed = (*VERSIONS[:i], VERSIONS[i] + "+1", *VERSIONS[i + 1 :])
        assert cache_key(b"SELECT 1;", "postgres", {}, changed) != base
    assert any(v.startswith("sqlgate-src=") for v in VERSIONS)
    assert any(v.startswith("pglast=") for v in VERSIONS)


def test_one_byte_changed_is_a_miss_with_its_own_result() -> None:
    cache = ParseCache()
    a = SourceFile("m.sql", b"DROP TABLE a;\n")
    b = SourceFile("m.sql", b"DROP TABLE b;\n")
    parse_migrations([a], "postgres", cache=cache)
    got = parse_migrations([b], "postgres", cache=cache)
    assert cache.stats().hits == 0
    assert got.statements[0].to_json()["text"] == "DROP TABLE b"


def test_variables_used_by_the_file_are_in_the_key_others_are_not() -> None:
    cache = ParseCache()
    f = SourceFile("v.sql", b"CREATE TABLE ${schema}.t (id int);\n")
    one = parse_migrations([f], "postgres", variables={"schema": "s1"}, cache=cache)
    two = parse_migrations([f], "postgres", variables={"schema": "s2"}, cache=cache)
    assert cache.stats().hits == 0
    assert one.statements[0].to_json() != two.statements[0].to_json()
    again = parse_migrations([f], "postgres", variables={"schema": "s1", "x": "y"}, cache=cache)
    assert cache.stats().hits == 1
    assert dump(again) == dump(one)
    with pytest.raises(PlaceholderError) as exc:
        parse_migrations([f], "postgres", variables={"x": "y"}, cache=cache)
    assert "schema" in str(exc.value)


def test_dialect_is_in_the_key() -> None:
    cache = ParseCache()
    f = SourceFile("d.sql", b"CREATE TABLE t (id int);\n")
    parse_migrations([f], "postgres", cache=cache)
    got = parse_migrations([f], "mysql", cache=cache)
    assert cache.stats().hits == 0
    assert dump(got) == dump(parse_migrations([f], "mysql"))


def test_errors_not_cached_and_raised_in_file_order() -> None:
    cache = ParseCache()
    deep = SourceFile("deep.sql", b"SELECT " + b"(" * 30 + b"1" + b")" * 30 + b";\n")
    bad = SourceFile("bad.sql", b"SELECT '\xff';\n")
    limits = Limits(max_nesting=10)
    plain = outcome([PG, deep, bad], "postgres", limits=limits)
    assert plain.startswith("LimitExceeded|deep.sql: line 1: nesting depth 30")
    assert outcome([PG, deep, bad], "postgres", limits=limits, cache=cache) == plain
    assert outcome([PG, bad, deep], "postgres", limits=limits, cache=cache).startswith(
        "EncodingError|bad.sql"
    )
    # cached under a generous limit, a hit still honours a tighter one, same message
    assert outcome([deep], "postgres", cache=cache).startswith("{")
    assert outcome([deep], "postgres", limits=limits, cache=cache) == outcome(
        [deep], "postgres", limits=limits
    )
    many = Limits(max_statements=6)
    assert outcome([PG, PG2], "postgres", limits=many, cache=cache) == outcome(
        [PG, PG2], "postgres", limits=many
    )


def _entry(n_statements: int, text: str = "x") -> FileParse:
    sql = (f"SELECT '{text}';\n" * n_statements).encode()
    return parse_file("e.sql", sql, "postgres", None, 200)


def test_eviction_by_entries_is_lru() -> None:
    cache = ParseCache(max_entries=3)
    value = _entry(1)
    for k in "abc":
        cache.put(k, value)
    assert cache.get("a") is value  # a is now most recent
    cache.put("d", value)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert all(cache.get(k) is value for k in "acd")


def test_eviction_by_bytes() -> None:
    value = _entry(5, "y" * 1000)
    size = value.approx_bytes()
    cache = ParseCache(max_entries=1000, max_bytes=size * 3 + size // 2)
    for i in range(10):
        cache.put(str(i), value)
        assert cache.stats().approx_bytes <= cache.max_bytes
    assert len(cache) == 3
    assert [k for k in map(str, range(10)) if cache.get(k) is not None] == ["7", "8", "9"]
    cache.put("huge", _entry(50, "z" * 100_000))  # bigger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 3


def test_thread_safety_under_contention() -> None:
    cache = ParseCache(max_entries=50, max_bytes=10**9)
    value = _entry(1)
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(4000):
                k = str(rng.randrange(120))
                if cache.get(k) is None:
                    cache.put(k, value)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stats = cache.stats()
    assert stats.entries == len(cache) <= 50
    assert stats.hits + stats.misses == 8 * 4000
    assert stats.approx_bytes == stats.entries * value.approx_bytes()


def test_parallel_reviews_share_one_cache() -> None:
    cache = ParseCache()
    files = corpus_sample("postgres", 20, seed=11)
    expected = {f.path: outcome([f], "postgres") for f in files}
    results: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        for f in files[offset:] + files[:offset]:
            r = outcome([f], "postgres", cache=cache)
            with lock:
                results.append((f.path, r))

    threads = [threading.Thread(target=worker, args=(i * 5,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 * len(files)
    assert all(r == expected[path] for path, r in results)
    assert cache.stats().hits > 0
