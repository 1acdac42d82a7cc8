"""Signed bundles: `sqlgate policy build --signing-key` signs the way OPA does (real OPA 0.61
verifies it with `opa build`/`opa run --verification-key`), sqlgate verifies what `opa
sign` signs, and the embedded engine loads a bundle file or URL only when its signature
and its revision (= the digest of its content) hold. Keys are generated per test run."""

from __future__ import annotations

import http.server
import io
import json
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from opa_tools import opa_bin, opa_server
from sqlgate.cli.main import main
from sqlgate.config import config_from_mapping
from sqlgate.errors import ConfigError, PolicyLoadError
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.factory import load_engine
from sqlgate.policy.opa_bundle import SIGNATURES, read_tarball, write_directory, write_tarball
from sqlgate.policy.source import PolicySource, load_bundle

from .conftest import POLICIES
from .inputs import policy_input, stmt


def _keypair(tmp: Path, kind: str) -> tuple[Path, Path]:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind in ("rsa", "other")
        else ec.generate_private_key(ec.SECP256R1())
    )
    private, public = tmp / f"{kind}.pem", tmp / f"{kind}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("bundle-keys")
    return {kind: _keypair(tmp, kind) for kind in ("rsa", "ec", "other")}


def _build(tmp: Path, key: Path | None, name: str = "bundle.tar.gz") -> Path:
    out = tmp / name
    args = ["policy", "build", str(POLICIES), "-o", str(out)]
    if key is not None:
        args += ["--signing-key", str(key)]
    assert main(args) == 0
    return out


def _tampered(bundle: Path, tmp: Path, edit: str) -> Path:
    files = dict(read_tarball(bundle.read_bytes(), source="b"))
    if edit == "rego":
        files["main.rego"] += b"\n# edited after signing\n"
    elif edit == "added":
        files["rules/meta/extra/extra.rego"] = b"package sqlgate.rules.meta.extra\n"
    elif edit == "removed":
        del files["rules/destructive/drop-table/drop_table.rego"]
    elif edit == "data":
        files["data/levels.yaml"] = files["data/levels.yaml"].replace(b"deny", b"warn")
    out = tmp / f"tampered-{edit}.tar.gz"
    write_tarball(sorted(files.items()), out)
    return out


def _opa_build(
    bundle: Path, public: Path, tmp: Path, *alg: str
) -> subprocess.CompletedProcess[str]:
    out = str(tmp / "opa-out.tar.gz")
    return subprocess.run(
        [
            str(opa_bin()),
            "build",
            "--bundle",
            str(bundle),
            "--verification-key",
            str(public),
            *alg,
            "-o",
            out,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("kind", "alg"), [("rsa", "RS256"), ("ec", "ES256")])
def test_real_opa_verifies_the_signature(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path, kind: str, alg: str
) -> None:
    private, public = keys[kind]
    bundle = _build(tmp_path, private)
    ok = _opa_build(bundle, public, tmp_path, "--signing-alg", alg)
    assert ok.returncode == 0, ok.stderr
    wrong = _opa_build(bundle, keys["other"][1], tmp_path, "--signing-alg", "RS256")
    assert wrong.returncode != 0
    tampered = _opa_build(
        _tampered(bundle, tmp_path, "rego"), public, tmp_path, "--signing-alg", alg
    )
    assert tampered.returncode != 0
    said = tampered.stdout + tampered.stderr
    assert "main.rego" in said, said


def test_real_opa_server_loads_the_signed_bundle(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path, policy_set: PolicySet
) -> None:
    private, public = keys["rsa"]
    bundle = _build(tmp_path, private)
    config = {
        "keys": {"release": {"algorithm": "RS256", "key": public.read_text()}},
        "bundles": {
            "sqlgate": {
                "resource": bundle.resolve().as_uri(),
                "persist": False,
                "signing": {"keyid": "release"},
            }
        },
    }
    config_path = tmp_path / "opa.json"
    config_path.write_text(json.dumps(config))
    with opa_server(["-c", str(config_path)], tmp_path, ready="/health?bundles") as server:
        answer = server.get("/v1/data/sqlgate/main/result?provenance=true").json()
        assert answer["provenance"]["bundles"]["sqlgate"]["revision"] == policy_set.digest


def test_sqlgate_verifies_what_opa_signs(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path, policy_set: PolicySet
) -> None:
    private, public = keys["rsa"]
    unsigned = _build(tmp_path, None)
    tree = tmp_path / "tree"
    write_directory(read_tarball(unsigned.read_bytes(), source="u"), tree)
    signed = subprocess.run(
        [str(opa_bin()), "sign", "--signing-key", str(private), "--bundle", "."],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tree,
    )
    assert signed.returncode == 0, signed.stderr
    files = [
        (p.relative_to(tree).as_posix(), p.read_bytes()) for p in tree.rglob("*") if p.is_file()
    ]
    assert SIGNATURES in dict(files)
    opa_signed = tmp_path / "opa-signed.tar.gz"
    write_tarball(sorted(files), opa_signed)
    loaded = load_bundle(
        opa_signed.read_bytes(), source="opa", verification_key=public.read_bytes()
    )
    assert loaded.digest == policy_set.digest
    with pytest.raises(PolicyLoadError, match="does not verify"):
        load_bundle(
            opa_signed.read_bytes(), source="opa", verification_key=keys["other"][1].read_bytes()
        )


@pytest.mark.parametrize("edit", ["rego", "added", "removed", "data"])
def test_tampered_bundles_are_refused(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path, edit: str
) -> None:
    private, public = keys["ec"]
    tampered = _tampered(_build(tmp_path, private), tmp_path, edit)
    with pytest.raises(PolicyLoadError, match=r"signature|signed hash|missing"):
        load_bundle(tampered.read_bytes(), source="t", verification_key=public.read_bytes())
    # Without a key the signature is not checked, but the revision still must be the digest.
    with pytest.raises(PolicyLoadError, match="not the digest"):
        load_bundle(tampered.read_bytes(), source="t", verification_key=None)


def test_unsigned_or_foreign_key_is_refused(
    keys: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    unsigned = _build(tmp_path, None, "unsigned.tar.gz")
    with pytest.raises(PolicyLoadError, match="not signed"):
        load_bundle(unsigned.read_bytes(), source="u", verification_key=keys["rsa"][1].read_bytes())
    signed = _build(tmp_path, keys["rsa"][0], "signed.tar.gz")
    for other in ("ec", "other"):
        with pytest.raises(PolicyLoadError, match=r"does not match the key|does not verify"):
            load_bundle(
                signed.read_bytes(), source="s", verification_key=keys[other][1].read_bytes()
            )
    with pytest.raises(PolicyLoadError, match="not a readable bundle"):
        load_bundle(b"not a tarball", source="x", verification_key=None)
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.rego")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(PolicyLoadError, match="not allowed"):
        load_bundle(evil.getvalue(), source="evil", verification_key=None)


def test_engine_loads_a_bundle_file_from_config(
    keys: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    engine: EmbeddedEngine,
    policy_set: PolicySet,
) -> None:
    private, public = keys["rsa"]
    bundle = _build(tmp_path, private)
    config = config_from_mapping(
        {
            "policies": {
                "dir": str(tmp_path / "nonexistent"),
                "bundle": str(bundle),
                "verification_key": str(public),
                "isolation": "thread",
            }
        }
    )
    loaded = load_engine(config)
    try:
        assert loaded.policy_digest == policy_set.digest
        doc = policy_input([stmt("drop_table", 0), stmt("create_index", 1)])
        assert loaded.evaluate(doc) == engine.evaluate(doc)
    finally:
        getattr(loaded, "close", lambda: None)()
    with pytest.raises(ConfigError, match="verification_key"):
        config_from_mapping({"policies": {"bundle": "https://policies.example/b.tar.gz"}})


class _BundleServer(http.server.BaseHTTPRequestHandler):
    body = b""
    etag = '"r1"'
    seen: list[str | None] = []  # noqa: RUF012 - one server per test, reset by the fixture

    def log_message(self, *args: object) -> None:
        del args

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("If-None-Match"))
        if self.headers.get("If-None-Match") == type(self).etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", type(self).etag)
        self.send_header("Content-Length", str(len(type(self).body)))
        self.end_headers()
        self.wfile.write(type(self).body)


@pytest.fixture
def bundle_http() -> Iterator[tuple[str, type[_BundleServer]]]:
    handler = type("Handler", (_BundleServer,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bundle.tar.gz", handler
    finally:
        server.shutdown()
        server.server_close()


def test_bundle_url_with_etag(
    keys: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    policy_set: PolicySet,
    bundle_http: tuple[str, type[_BundleServer]],
) -> None:
    url, handler = bundle_http
    private, public = keys["rsa"]
    handler.body = _build(tmp_path, private).read_bytes()
    source = PolicySource(dir=tmp_path, bundle=url, verification_key=public)
    first = source.load(conditional=True)
    assert first is not None and first.digest == policy_set.digest
    assert source.load(conditional=True) is None  # 304: unchanged
    assert handler.seen == [None, '"r1"']
    # A new revision signed with another key is refused; the ETag stays the verified one.
    handler.body, handler.etag = _build(tmp_path, keys["ec"][0], "b2.tar.gz").read_bytes(), '"r2"'
    with pytest.raises(PolicyLoadError, match=r"does not match the key|does not verify"):
        source.load(conditional=True)
    assert source.etag == '"r1"'
