"""Real OPA for tests: the 0.61 binary (../shared/tools/opa, or $OPA) as a server process,
and OPA 1.20 in-process (opa-golib-python-bindings, installed by scripts/bootstrap.sh).

Without them the tests skip with the reason, except under CI=true, where a missing OPA is
a failure: a parity or remote-OPA test that silently skips in CI proves nothing.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from serving import free_port

ROOT = Path(__file__).resolve().parent.parent
OPA_BIN = Path(os.environ.get("OPA", ROOT.parent / "shared" / "tools" / "opa"))


def missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


def opa_bin() -> Path:
    if not (OPA_BIN.is_file() and os.access(OPA_BIN, os.X_OK)):
        missing(f"OPA binary ({OPA_BIN})")
    return OPA_BIN


def opa_bindings() -> Any:
    """The opa_bindings module (OPA 1.20.2 in-process)."""
    try:
        import opa_bindings
    except ImportError:
        missing("opa-golib-python-bindings (run scripts/bootstrap.sh)")
    return opa_bindings


class OpaServer:
    """A running ``opa run --server`` on 127.0.0.1; `url` is its base URL."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, **kwargs)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def opa_server(
    args: Sequence[str], tmp: Path, *, ready: str = "/health", timeout_s: float = 30.0
) -> Iterator[OpaServer]:
    """Start ``opa run --server --addr 127.0.0.1:<free port> <args>``; wait until `ready`
    answers 200 (``/health?bundles`` waits for bundles); stop it on exit."""
    port = free_port()
    log = tmp / f"opa-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(opa_bin()), "run", "--server", "--addr", f"127.0.0.1:{port}", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = OpaServer(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"opa exited {process.returncode}: {server.log_text()}")
            try:
                if server.get(ready).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"opa not ready at {ready}: {server.log_text()}")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
