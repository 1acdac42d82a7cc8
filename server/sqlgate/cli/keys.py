"""``sqlgate keys``: generate, rotate, revoke, list and export the signing keyset.

Keys are generated at run time into a directory (PEMs 0600 + keyset.json); nothing
here prints or exports private material. ``public`` writes the JSON keyset that
runners and ``sqlgate verdict verify`` pin.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlgate_client.trust.keyset import PURPOSES

from sqlgate.trust.keys import Keyset


def _generate(args: argparse.Namespace) -> int:
    keyset = Keyset.generate(Path(args.dir))
    for record in keyset:
        print(f"{record.key_id}\t{record.purpose}\t{record.state}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    record = Keyset.load(Path(args.dir)).rotate(args.purpose)
    print(f"{record.key_id}\t{record.purpose}\t{record.state}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    record = Keyset.load(Path(args.dir)).revoke(args.key_id)
    print(f"{record.key_id}\t{record.purpose}\t{record.state}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for record in Keyset.load(Path(args.dir)):
        print(f"{record.key_id}\t{record.purpose}\t{record.state}\t{record.created_at or '-'}")
    return 0


def _public(args: argparse.Namespace) -> int:
    text = Keyset.load(Path(args.dir)).public_keyset().to_json()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("keys", help="manage the signing keyset")
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    p = sub.add_parser("generate", help="create a fresh keyset (one active key per purpose)")
    p.add_argument("--dir", required=True, help="directory for keyset.json and the PEMs")
    p.set_defaults(func=_generate)

    p = sub.add_parser("rotate", help="new active key; the old one becomes verify-only")
    p.add_argument("--dir", required=True)
    p.add_argument("--purpose", required=True, choices=PURPOSES)
    p.set_defaults(func=_rotate)

    p = sub.add_parser("revoke", help="revoke a verify-only key: it verifies nothing any more")
    p.add_argument("--dir", required=True)
    p.add_argument("key_id", metavar="KEY_ID")
    p.set_defaults(func=_revoke)

    p = sub.add_parser("list", help="list key ids, purposes, states, creation times")
    p.add_argument("--dir", required=True)
    p.set_defaults(func=_list)

    p = sub.add_parser("public", help="write the public keyset JSON verifiers pin")
    p.add_argument("--dir", required=True)
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=_public)
