"""Large inputs do not take the service down; SIGTERM stops it within its grace period.

One real ``sqlgate serve`` subprocess (SQLite store, 3 s grace). Eight clients send a
3.9 MB migration set each at once: large reviews are admitted one at a time with four
queued, so three are refused at once with RESOURCE_EXHAUSTED, and small checks keep
being answered while the large ones run (each within a generous 10 s liveness bound,
the only timing asserted). Then SIGTERM arrives with large reviews still running and
queued: the process must exit 0 within the grace period plus a margin, every large
call ends with an error (none hangs, none is an allow), and the policy worker
processes are gone. On a server without admission control the eight large calls hold
all eight gRPC threads and the small checks time out; without the shutdown path the
process keeps parsing long after SIGTERM.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from serving import SQLGATE, free_port, wait_serving
from sqlgate.cli.dev_config import write_dev_config
from sqlgate_client.channel import open_channel
from sqlgate_client.gen.sqlgate.v1 import common_pb2, review_pb2, review_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent.parent
GRACE_S = 3.0
BIG_CLIENTS = 8


def _big_migration(seed: int) -> bytes:
    """~3.9 MB of ordinary statements (about 20k), different per client (no cache hits)."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    i = 0
    while size < 3_900_000:
        i += 1
        kind = rng.randrange(4)
        if kind == 0:
            s = f"ALTER TABLE orders_{seed} ADD COLUMN c{i} text DEFAULT 'v{i}' NULL;\n"
        elif kind == 1:
            s = f"CREATE INDEX CONCURRENTLY ix_{seed}_{i} ON orders_{seed} (c{i - 1}, id);\n"
        elif kind == 2:
            s = f"UPDATE orders_{seed} SET c{i - 2} = 'x{i}' WHERE id BETWEEN {i} AND {i + 99};\n"
        else:
            s = f"INSERT INTO audit_{seed} (id, note) VALUES ({i}, 'row {i} {'x' * 60}');\n"
        out.append(s)
        size += len(s)
    return "".join(out).encode()


def _children(pid: int) -> set[int]:
    """Direct child processes of ``pid`` (from /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    tmp = tmp_path_factory.mktemp("load")
    config, tokens = write_dev_config(tmp / "dev")
    config.write_text(config.read_text() + f"grace_s: {GRACE_S}\n")
    address = f"127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [*SQLGATE, "serve", "--config", str(config), "--listen", address],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_serving(address, proc, budget_s=60)
        yield proc, address, tokens["alice"]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _request(content: bytes, path: str) -> review_pb2.CheckRequest:
    return review_pb2.CheckRequest(
        environment="production",
        target="main-db",
        dialect=common_pb2.DIALECT_POSTGRES,
        repo="acme/app",
        commit="abc123",
        migrations=[review_pb2.Migration(path=path, content=content)],
    )


def test_small_checks_answered_while_large_ones_run_then_sigterm_stops_in_grace(
    server: tuple[subprocess.Popen[bytes], str, str],
) -> None:
    proc, address, token = server
    meta = (("authorization", f"Bearer {token}"),)
    workers_before = _children(proc.pid)
    assert workers_before, "the server should have policy worker processes"
    bigs = [_big_migration(seed) for seed in range(BIG_CLIENTS)]
    with open_channel(address, tls=None) as channel:
        stub = review_pb2_grpc.ReviewServiceStub(channel)
        futures = [
            stub.Check.future(_request(big, f"db/V{i}__big.sql"), timeout=600, metadata=meta)
            for i, big in enumerate(bigs)
        ]
        # Refusals come as soon as the requests arrive: three over running + queued.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(f.done() for f in futures) < 3:
            time.sleep(0.1)
        refused = [f for f in futures if f.done()]
        assert len(refused) == 3, [f.exception() for f in refused]
        for f in refused:
            err = f.exception()
            assert isinstance(err, grpc.RpcError)
            assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, err.details()
            assert "server busy" in str(err.details()) and "retry" in str(err.details())
        pending = [f for f in futures if not f.done()]
        # Small checks keep being answered while a large review runs and four wait.
        latencies = []
        for i in range(12):
            small = _request(
                f"CREATE TABLE small_{i} (id bigint PRIMARY KEY);\n".encode(), "db/V1.sql"
            )
            started = time.monotonic()
            reply = stub.Check(small, timeout=10, metadata=meta)
            latencies.append(time.monotonic() - started)
            assert reply.statements == 1
        assert sum(not f.done() for f in pending) >= 3, "large reviews should still be busy"
        latencies.sort()
        p50, worst = latencies[len(latencies) // 2], latencies[-1]
        print(f"small Check under load: p50 {p50:.3f}s max {worst:.3f}s")

        # SIGTERM with large reviews running and queued.
        workers = _children(proc.pid)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=GRACE_S + 30)
        took = time.monotonic() - sent
        assert code == 0
        assert took < GRACE_S + 10, f"SIGTERM took {took:.1f}s to stop the server"
        print(f"stopped {took:.1f}s after SIGTERM (grace {GRACE_S}s)")
        for f in pending:
            err = f.exception(timeout=30)
            assert isinstance(err, grpc.RpcError), "a large call must not succeed after SIGTERM"
            assert err.code() in (
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                grpc.StatusCode.CANCELLED,
                grpc.StatusCode.UNAVAILABLE,
            ), (err.code(), err.details())
    end = time.monotonic() + 10
    while time.monotonic() < end and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the server"
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert "sqlgate stopped" in log, log[-3000:]
