"""The policy tree as an OPA bundle: one artifact that OPA and the embedded engine both load.

Layout of the bundle (a ``.tar.gz``, or the same files in a directory):

- ``.manifest``: ``{"revision": <policy digest>, "roots": ["sqlgate"]}``;
- every ``*.rego`` module at its path relative to the policy tree (``main.rego``,
  ``rules/<family>/<rule>/<rule>.rego``; tests only when built ``with_tests``);
- ``sqlgate/config/data.json``: the data files mounted where the policies read them
  (``data.sqlgate.config.<name>``), so OPA serves the same ``data`` document as regorus;
- the data files themselves (``data/levels.yaml`` ...) byte for byte. OPA ignores files
  not named ``data.json``/``data.yaml``; sqlgate reads them back so a bundle loads into the
  exact `PolicySet` (same digest) it was built from.

JSON files are written in canonical form (sorted keys, no spaces, Go's escaping), the
form OPA hashes JSON files in, so a signature over their raw bytes and OPA's agree.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from sqlgate.errors import PolicyLoadError
from sqlgate.policy.bundle import DATA_MOUNT, PolicySet

MANIFEST = ".manifest"
SIGNATURES = ".signatures.json"
ROOT = DATA_MOUNT[0]
DATA_JSON = "/".join((*DATA_MOUNT, "data.json"))
# A fixed mtime and owner so two builds of the same tree are byte-identical archives.
_MTIME = 0


def canonical_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes a sorted map: compact, <>& and U+2028/9 escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)  # these only occur inside strings in JSON
    return text.encode("utf-8")


def bundle_files(policy_set: PolicySet, *, with_tests: bool = False) -> list[tuple[str, bytes]]:
    """The bundle's files (without signatures) as sorted (path, bytes) pairs."""
    files: dict[str, bytes] = {
        MANIFEST: canonical_json({"revision": policy_set.digest, "roots": [ROOT]}),
        DATA_JSON: canonical_json(_config_document(policy_set)),
    }
    modules = policy_set.modules + (policy_set.tests if with_tests else ())
    for module in modules:
        files[module.path] = module.text.encode("utf-8")
    for rel, raw in policy_set.data_sources:
        files[rel] = raw
    return sorted(files.items())


def _config_document(policy_set: PolicySet) -> Any:
    node: Any = policy_set.data
    for key in DATA_MOUNT:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node


def write_tarball(files: list[tuple[str, bytes]], out: Path) -> None:
    """Write `files` as a gzipped tar OPA reads (paths rooted at ``/``), reproducibly."""
    buffer = io.BytesIO()
    # gzip's header carries a timestamp too: fixed, or two builds differ by their second.
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=_MTIME) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel, raw in files:
            info = tarfile.TarInfo("/" + rel)
            info.size = len(raw)
            info.mtime = _MTIME
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(raw))
    out.write_bytes(buffer.getvalue())


def write_directory(files: list[tuple[str, bytes]], out: Path) -> None:
    """Write `files` under the directory `out` (created), e.g. for ``opa test --bundle``."""
    for rel, raw in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)


def read_tarball(raw: bytes, *, source: str) -> list[tuple[str, bytes]]:
    """The regular files of a bundle archive as sorted (path, bytes); refuses odd members."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            for member in tar.getmembers():
                if member.isdir():
                    continue
                if not member.isfile():
                    raise PolicyLoadError(f"{source}: bundle member {member.name} is not a file")
                rel = _safe_path(member.name, source)
                if rel in files:
                    raise PolicyLoadError(f"{source}: bundle member {rel} appears twice")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise PolicyLoadError(f"{source}: bundle member {rel} cannot be read")
                files[rel] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PolicyLoadError(f"{source}: not a readable bundle archive: {exc}") from exc
    return sorted(files.items())


def _safe_path(name: str, source: str) -> str:
    path = PurePosixPath(name.lstrip("/"))
    if not path.parts or any(part in ("..", "") for part in path.parts):
        raise PolicyLoadError(f"{source}: bundle member path {name!r} is not allowed")
    return path.as_posix()


def manifest_of(files: list[tuple[str, bytes]], *, source: str) -> dict[str, Any]:
    """The parsed ``.manifest`` (a revision string and roots are required)."""
    raw = dict(files).get(MANIFEST)
    if raw is None:
        raise PolicyLoadError(f"{source}: bundle has no {MANIFEST}")
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise PolicyLoadError(f"{source}: {MANIFEST} is not JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("revision"), str):
        raise PolicyLoadError(f"{source}: {MANIFEST} has no revision")
    return manifest
