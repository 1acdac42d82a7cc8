"""``sqlgate audit verify``: re-walk the audit hash chain and its signed checkpoints.

Prints ``ok`` with counts, or the first bad event and why; exit 0 when the chain
verifies, 1 when it does not. The store comes from ``--store``, SQLGATE_STORE, or the
server config given with ``--config`` (which also supplies the key directory). With
``--keys`` (a public keyset JSON file, or a private key directory made by ``sqlgate keys
generate``) checkpoint signatures are verified against the pinned checkpoint keys;
without it only the chain and the checkpoints' hashes are checked, and the output says so.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sqlgate_client.trust.keyset import PublicKeyset

from sqlgate.audit.verify import CheckpointVerifier, verify_chain
from sqlgate.config import load_config
from sqlgate.errors import ConfigError
from sqlgate.store import open_store

STORE_ENV = "SQLGATE_STORE"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="inspect and verify the audit log")
    sub = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify",
        help="re-walk the audit hash chain and checkpoints; exit 1 at the first bad event",
    )
    verify.add_argument(
        "--store",
        default=None,
        help=f"sqlite:///path or postgresql://... (default: ${STORE_ENV})",
    )
    verify.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the server's config: its store and key directory (flags override it)",
    )
    verify.add_argument(
        "--keys",
        type=Path,
        default=None,
        help="public keyset JSON, or a key directory, to verify checkpoint signatures",
    )
    verify.set_defaults(func=run_verify)


def _load_verifier(path: Path) -> CheckpointVerifier:
    if path.is_dir():
        from sqlgate.trust.keys import Keyset

        keyset = Keyset.load(path).public_keyset()
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read keyset {path}: {exc.strerror or exc}") from exc
        keyset = PublicKeyset.from_json(data)

    def verify(key_id: str, data: bytes, signature: bytes) -> None:
        keyset.verify("checkpoint", key_id, data, signature)

    return verify


def run_verify(args: argparse.Namespace) -> int:
    config = load_config(args.config) if args.config is not None else None
    url = args.store or os.environ.get(STORE_ENV) or (config.store if config else None)
    if not url:
        raise ConfigError(f"no store: pass --store or --config, or set {STORE_ENV}")
    keys = args.keys if args.keys is not None else (config.keys if config else None)
    verifier = _load_verifier(keys) if keys is not None else None
    store = open_store(url, create=False)
    try:
        report = verify_chain(store, verifier)
    finally:
        store.close()
    if not report.ok:
        print(f"FAILED at event {report.first_bad_sequence}: {report.problem}")
        print(f"(verified {report.events} events and {report.checkpoints} checkpoints before it)")
        return 1
    note = "" if report.signatures_checked else " (checkpoint signatures NOT checked: no --keys)"
    print(f"ok: {report.events} events, {report.checkpoints} checkpoints{note}")
    return 0
