"""Shared pieces of the deploy/ tests (not a conftest: module names must not clash with
the other suites' conftest modules): the manifests, principals, a migration to check."""

from __future__ import annotations

import hashlib
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml
from sqlgate.auth.identities import hash_token, new_token

ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY = ROOT / "deploy"
ALLOW = b"CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"
DIGESTS = {"V1__notes.sql": hashlib.sha256(ALLOW).hexdigest()}


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def with_test_principals(config_text: str) -> tuple[str, dict[str, str]]:
    """The config with its placeholder principals replaced by fresh ones (same ids and
    roles): the one change made to a shipped config, since its token hashes are examples."""
    doc = yaml.safe_load(config_text)
    tokens = {pid: new_token() for pid in doc["principals"]}
    for pid, body in doc["principals"].items():
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", t) for t in body["tokens"])
        body["tokens"] = [hash_token(tokens[pid])]
    return yaml.safe_dump(doc), tokens


def port_of(listen: str) -> int:
    return int(listen.rpartition(":")[2])


def scrape(port: int) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return str(r.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
