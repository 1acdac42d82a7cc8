"""``sqlgate verdict verify``: check a signed verdict offline against a pinned keyset.

FILE is a DSSE envelope, or the output of ``sqlgate check --server ... --format json``
(its ``verdict`` member is the envelope). ``--files`` takes files and directories,
expanded and named the way ``sqlgate check`` names them. Exit 0 when the signature,
statement and validity window check out (and, with ``--files``, the files are exactly
the reviewed bytes); 1 when they do not (a keyset that does not hold the signing key
included); 2 for unreadable or malformed input. The decision is printed, not turned
into the exit code: a valid ``deny`` verdict is still valid.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.verdict import format_time

from sqlgate.errors import InputError
from sqlgate.trust.errors import server_errors
from sqlgate.trust.verdict import verify_verdict


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc}", file=path) from exc


def _envelope(path: str) -> bytes:
    """The DSSE envelope in ``path``: the file itself, or a check result's ``verdict``."""
    data = _read(path, "verdict")
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", file=path) from exc
    if isinstance(doc, dict) and "payloadType" not in doc and "decision" in doc:
        verdict = doc.get("verdict")
        if not isinstance(verdict, dict):
            raise InputError(
                "a check result without a verdict (a --local check is unsigned)", file=path
            )
        return json.dumps(verdict).encode()
    return data


def _files(paths: list[str]) -> dict[str, bytes]:
    """Path (as ``sqlgate check`` names it) -> bytes; directories expanded like check."""
    from sqlgate_client.check import display_path, names_base
    from sqlgate_client.ordering import collect

    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError("no such file or directory", file=raw)
        try:
            files.extend(collect([path]) if path.is_dir() else [path])
        except (OSError, ValueError) as exc:
            raise InputError(str(exc), file=raw) from exc
    base = names_base(files) if files else None  # the names `sqlgate check` sends
    return {display_path(f, base): _read(str(f), "file") for f in files}


def _verify(args: argparse.Namespace) -> int:
    envelope = _envelope(args.file)
    with server_errors():
        keyset = PublicKeyset.from_json(_read(args.keys, "public keyset"))
    files = _files(args.files) if args.files else None
    info = verify_verdict(envelope, keyset, files=files)
    summary = {
        "valid": True,
        "verdict_id": info.verdict_id,
        "decision": info.decision,
        "environment": info.environment,
        "target": info.target,
        "repo": info.repo,
        "commit": info.commit,
        "policy_digest": info.policy_digest,
        "files": dict(info.digests),
        "files_checked": files is not None,
        "issued_at": format_time(info.issued_at),
        "expires_at": format_time(info.expires_at),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        checked = "files match" if files is not None else "files not checked"
        print(
            f"verdict {info.verdict_id}: signature valid, {checked}; decision "
            f"{info.decision} for {info.environment}/{info.target}, "
            f"expires {summary['expires_at']}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("verdict", help="work with signed verdicts")
    sub = parser.add_subparsers(dest="verdict_command", metavar="ACTION", required=True)
    p = sub.add_parser("verify", help="verify a verdict envelope offline")
    p.add_argument(
        "file", metavar="FILE", help="DSSE envelope (JSON), or `check --format json` output"
    )
    p.add_argument("--keys", required=True, metavar="PUBLIC_KEYSET.json")
    p.add_argument(
        "--files",
        nargs="+",
        metavar="PATH",
        help="the migration files or directories, as given to check; all and only those reviewed",
    )
    p.add_argument("--json", action="store_true", help="print the verified fields as JSON")
    p.set_defaults(func=_verify)
