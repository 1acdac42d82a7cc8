"""``sqlgate audit verify``: re-walk the audit hash chain and its signed checkpoints.

Prints ``ok`` with counts, or the first bad event and why; exit 0 when the chain
verifies, 1 when it does not. The store comes from ``--store``, SQLGATE_STORE, or the
server config given with ``--config`` (which also supplies the key directory). With
``--keys`` (a public keyset JSON file, or a private key directory made by ``sqlgate keys
generate``) checkpoint signatures are verified against the pinned checkpoint keys;
without it only the chain and the checkpoints' hashes are checked, and the output says so.

``--checkpoint FILE`` (repeatable; also the config's ``audit_checkpoint_file``) adds
signed checkpoints kept *outside* the store — the server's export, or the one a runner
kept for its report — and proves the store still extends each of them: the events they
name are present with the signed hashes. That is what detects a truncated log (newest
events and their checkpoints deleted) or a rewritten one (an event removed and the chain
re-hashed), which the store alone cannot show.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sqlgate_client.trust.keyset import PublicKeyset

from sqlgate.audit.export import read_checkpoints, verify_extends
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
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="signed checkpoint(s) kept outside the store (JSON or JSON lines); the store "
        "must still hold each checkpointed event with its signed hash (repeatable)",
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
    files: list[Path] = list(args.checkpoint)
    exported = config.audit_checkpoint_file if config is not None else None
    if exported is not None and exported.exists() and exported not in files:
        files.append(exported)
    outside = [cp for f in files for cp in read_checkpoints(f)]
    store = open_store(url, create=False)
    try:
        if files:
            report = verify_extends(store, outside, verifier)
        else:
            report = verify_chain(store, verifier)
    finally:
        store.close()
    if not report.ok:
        print(f"FAILED at event {report.first_bad_sequence}: {report.problem}")
        print(f"(verified {report.events} events and {report.checkpoints} checkpoints before it)")
        return 1
    note = "" if report.signatures_checked else " (checkpoint signatures NOT checked: no --keys)"
    extra = f" ({len(outside)} from outside the store)" if files else ""
    print(f"ok: {report.events} events, {report.checkpoints} checkpoints{extra}{note}")
    return 0
