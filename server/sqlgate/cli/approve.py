"""``sqlgate approve VERDICT_ID --reason TEXT [--break-glass]``: approve a verdict.

Prints the new verdict id, its re-computed decision and what it still misses (e.g. a
security approval for a privileged statement), or with ``--format json`` one JSON
object; exit like check (0 allow, 3 still needs approval, 1 deny or refused, 2 usage
or unknown verdict, 4 authentication/permission, 5 server unavailable). The API token comes from
SQLGATE_TOKEN, the server from --server or SQLGATE_SERVER, TLS/mTLS from
--tls-ca/--tls-cert/--tls-key (or SQLGATE_TLS_CA/CERT/KEY).
"""

from __future__ import annotations

import argparse
import json
import sys

from sqlgate_client.check import server_from_env, token_from_env
from sqlgate_client.exitcodes import for_decision
from sqlgate_client.review import approve_remote
from sqlgate_client.tls import add_tls_arguments, tls_from_args

from sqlgate.cli.main import EXIT_USAGE

FORMATS = ("text", "json")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "approve",
        help="approve a verdict (re-signed with the approval)",
        description="Approve a verdict; prints the new verdict id and decision. Exit 0 "
        "allow, 3 still needs approval, 1 deny or refused, 2 usage or unknown verdict, "
        "4 authentication/permission, 5 server unavailable. Token: SQLGATE_TOKEN.",
    )
    p.add_argument("verdict_id", metavar="VERDICT_ID")
    p.add_argument("--reason", required=True, help="why this is approved (required)")
    p.add_argument(
        "--break-glass",
        action="store_true",
        help="operator override for destructive gates (expires, single use)",
    )
    p.add_argument("--server", metavar="ADDR", help="sqlgate server (default: $SQLGATE_SERVER)")
    p.add_argument("--format", default="text", dest="fmt", help=f"one of: {', '.join(FORMATS)}")
    # Older spelling of --format json, kept so existing scripts keep working.
    p.add_argument("--json", action="store_const", const="json", dest="fmt", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")
    add_tls_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.fmt not in FORMATS:
        print(
            f"sqlgate: error: unknown format {args.fmt!r} (available: text, json)", file=sys.stderr
        )
        return EXIT_USAGE
    address = args.server or server_from_env()
    if not address:
        print(
            "sqlgate: error: no server: pass --server ADDR or set SQLGATE_SERVER", file=sys.stderr
        )
        return EXIT_USAGE
    result = approve_remote(
        address,
        args.verdict_id,
        reason=args.reason,
        break_glass=args.break_glass,
        token=token_from_env(),
        timeout=args.timeout,
        tls=tls_from_args(args),
    )
    if args.fmt == "json":
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['verdict_id']} {result['decision']}")
        for need in result.get("missing", []):
            print(f"  still missing: {need}")
    return for_decision(result["decision"])
