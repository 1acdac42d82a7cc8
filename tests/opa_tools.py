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

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, log: Path, verify: str | bool
    ) -> None:
        self.process = process
        self.url = url
        self.log = log
        self.verify = verify

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, verify=self.verify, **kwargs)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def opa_server(
    args: Sequence[str],
    tmp: Path,
    *,
    ready: str = "/health",
    timeout_s: float = 30.0,
    tls_ca: Path | None = None,
    token: str | None = None,
) -> Iterator[OpaServer]:
    """Start ``opa run --server --addr 127.0.0.1:<free port> <args>``; wait until `ready`
    answers 200 (``/health?bundles`` waits for bundles); stop it on exit. With `tls_ca`
    the server speaks https (its certificate options are in `args`); `token` is sent on
    the readiness probe when the server requires one."""
    port = free_port()
    log = tmp / f"opa-{port}.log"
    addr = f"127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(opa_bin()), "run", "--server", "--log-level=error", "--addr", addr, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    scheme = "https" if tls_ca is not None else "http"
    verify: str | bool = str(tls_ca) if tls_ca is not None else True
    server = OpaServer(process, f"{scheme}://127.0.0.1:{port}", log, verify)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise AssertionError(f"opa exited {process.returncode}: {server.log_text()}")
            try:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                if server.get(ready, headers=headers).status_code == 200:
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


def self_signed_tls(tmp: Path) -> tuple[Path, Path]:
    """A fresh self-signed certificate for 127.0.0.1 and its key (PEM files), made now."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "opa-cert.pem", tmp / "opa-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def bundle_config(tmp: Path, bundle: Path, *, name: str = "sqlgate", **extra: Any) -> Path:
    """An OPA config file loading `bundle` (file:// resource) as bundle `name`, so OPA
    reports its revision under that name as a deployment does; `extra` is merged in."""
    import json

    config: dict[str, Any] = {
        "bundles": {name: {"resource": bundle.resolve().as_uri(), "persist": False}},
        **extra,
    }
    path = tmp / f"opa-config-{name}-{bundle.stem}.json"
    path.write_text(json.dumps(config))
    return path
