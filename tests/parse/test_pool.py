"""The process pool: same output as one process, errors cross the boundary intact."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from sqlgate.errors import EncodingError, LimitExceeded, ParseWorkerError, PlaceholderError
from sqlgate.parse import Limits, ParseCache, ParsePool, SourceFile, parse_migrations

from .test_cache import PG, PG2, corpus_sample, dump, outcome


@pytest.fixture(scope="module")
def pool() -> Iterator[ParsePool]:
    with ParsePool(workers=2, min_bytes=0) as p:
        p.warm_up()
        yield p


def usable(files: list[SourceFile], dialect: str) -> list[SourceFile]:
    return [f for f in files if outcome([f], dialect).startswith("{")]


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_pool_matches_single_process_on_corpus_sample(pool: ParsePool, dialect: str) -> None:
    files = usable(corpus_sample(dialect, 80, seed=5), dialect)
    assert len(files) > 40
    assert dump(parse_migrations(files, dialect, pool=pool)) == dump(  # type: ignore[arg-type]
        parse_migrations(files, dialect)  # type: ignore[arg-type]
    )


def test_pool_with_cache_matches_and_fills_cache(pool: ParsePool) -> None:
    files = usable(corpus_sample("postgres", 40, seed=9), "postgres")
    cache = ParseCache()
    plain = dump(parse_migrations(files, "postgres"))
    assert dump(parse_migrations(files, "postgres", pool=pool, cache=cache)) == plain
    assert len(cache) > 0
    assert dump(parse_migrations(files, "postgres", pool=pool, cache=cache)) == plain
    assert cache.stats().hits >= len(cache)


@pytest.mark.parametrize(
    ("bad", "cls", "needle"),
    [
        (SourceFile("enc.sql", b"SELECT '\xc3\x28';\n"), EncodingError, "not valid UTF-8"),
        (SourceFile("ph.sql", b"CREATE TABLE ${t} (a int);\n"), PlaceholderError, "'t'"),
        (
            SourceFile("deep.sql", b"SELECT " + b"(" * 40 + b"1" + b")" * 40 + b";\n"),
            LimitExceeded,
            "nesting depth 40",
        ),
    ],
)
def test_worker_errors_propagate_as_the_same_error(
    pool: ParsePool, bad: SourceFile, cls: type[Exception], needle: str
) -> None:
    files = [PG, bad, PG2]
    limits = Limits(max_nesting=20)
    with pytest.raises(cls) as plain:
        parse_migrations(files, "postgres", limits=limits)
    for cache in (None, ParseCache()):
        with pytest.raises(cls) as pooled:
            parse_migrations(files, "postgres", limits=limits, pool=pool, cache=cache)
        assert type(pooled.value) is type(plain.value)
        assert str(pooled.value) == str(plain.value)
        assert needle in str(pooled.value)
        assert getattr(pooled.value, "file", None) == bad.path


def test_first_error_in_file_order_wins(pool: ParsePool) -> None:
    deep = SourceFile("deep.sql", b"SELECT " + b"(" * 40 + b"1" + b")" * 40 + b";\n")
    enc = SourceFile("enc.sql", b"\xff\n")
    limits = Limits(max_nesting=20)
    for files in ([PG, deep, enc], [PG, enc, deep]):
        assert outcome(files, "postgres", limits=limits, pool=pool) == outcome(
            files, "postgres", limits=limits
        )
        assert outcome(files, "postgres", limits=limits, pool=pool, cache=ParseCache()) == (
            outcome(files, "postgres", limits=limits)
        )


def test_statement_limit_same_with_pool(pool: ParsePool) -> None:
    limits = Limits(max_statements=6)
    assert outcome([PG, PG2], "postgres", limits=limits, pool=pool) == outcome(
        [PG, PG2], "postgres", limits=limits
    )


def test_pool_still_works_after_an_error(pool: ParsePool) -> None:
    with pytest.raises(EncodingError):
        parse_migrations([SourceFile("x.sql", b"\xff")], "postgres", pool=pool)
    assert dump(parse_migrations([PG, PG2], "postgres", pool=pool)) == dump(
        parse_migrations([PG, PG2], "postgres")
    )


def _kill_workers(p: ParsePool) -> None:
    executor = p._get()
    for proc in list(executor._processes.values()):
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)


def test_worker_crash_fails_closed_then_recovers() -> None:
    with ParsePool(workers=2, min_bytes=0) as p:
        p.warm_up()
        files = [SourceFile(f"{i}.sql", PG.content) for i in range(50)]
        _kill_workers(p)
        with pytest.raises(ParseWorkerError, match="parse worker died"):
            parse_migrations(files, "postgres", pool=p)
        # a fresh pool is made for the next call
        assert dump(parse_migrations(files, "postgres", pool=p)) == dump(
            parse_migrations(files, "postgres")
        )


def test_closed_pool_refuses() -> None:
    p = ParsePool(workers=2, min_bytes=0)
    p.close()
    with pytest.raises(ParseWorkerError, match="closed"):
        parse_migrations([PG], "postgres", pool=p)


def test_small_sets_stay_in_process() -> None:
    p = ParsePool(workers=2)  # default threshold
    try:
        assert not p.worth_it([PG, PG2])
        parse_migrations([PG, PG2], "postgres", pool=p)
        assert p._executor is None  # never started for a tiny set
        assert p.worth_it([SourceFile("big.sql", b"x" * p.min_bytes)])
    finally:
        p.close()


def test_terminate_kills_busy_workers_without_waiting() -> None:
    """Server shutdown: a worker in the middle of a long parse is killed, not awaited,
    and a caller waiting for its file gets ParseWorkerError instead of waiting forever."""
    import time
    from pathlib import Path

    def gone(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        return state == "Z"

    busy = ParsePool(workers=2, min_bytes=0)
    busy.warm_up()
    pids = list(busy._get()._processes)
    assert len(pids) == 2
    big = SourceFile("big.sql", b"SELECT 1 + 2, 'x';\n" * 300_000)
    futures = busy.submit_all([big, big], "postgres", None, 200)
    started = time.monotonic()
    busy.terminate()
    for future in futures:
        with pytest.raises(ParseWorkerError):
            busy.result(future)
    while not all(gone(pid) for pid in pids) and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert all(gone(pid) for pid in pids), "parse workers outlived terminate()"
    # liveness bound: parsing these files alone takes far longer
    assert time.monotonic() - started < 10
    with pytest.raises(ParseWorkerError, match="closed"):
        busy.submit_all([PG], "postgres", None, 200)
