"""``sqlgate token VERDICT_ID --env E --target T [--server ADDR]``: print an execution token.

Asks the server (``--server``, else SQLGATE_SERVER, else 127.0.0.1:50051) for a
single-use token for an allowed verdict, authenticating with the API token in
SQLGATE_TOKEN and/or a client certificate (``--tls-cert/--tls-key``, mTLS; the server's
CA with ``--tls-ca``); the caller must hold ``runner`` in E. Prints the token alone on stdout
so it can be captured; the token id and expiry go to stderr. A refusal prints the
server's reason and exits 1 (the verdict does not allow it), 2 (unknown verdict), 4
(credentials or role) or 5 (server unavailable or failed).
"""

from __future__ import annotations

import argparse
import sys

from sqlgate_client.check import server_from_env, token_from_env
from sqlgate_client.execution import CallRefused, ExecutionClient
from sqlgate_client.exitcodes import for_refusal
from sqlgate_client.tls import add_tls_arguments, tls_from_args

from sqlgate.cli.main import EXIT_OK, EXIT_USAGE
from sqlgate.config import DEFAULT_LISTEN


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "token",
        help="exchange an allowed verdict for a single-use execution token",
        description=__doc__,
    )
    parser.add_argument("verdict_id", metavar="VERDICT_ID")
    parser.add_argument("--env", required=True, help="environment the token is for")
    parser.add_argument("--target", required=True, help="database target the token is for")
    parser.add_argument("--server", help="sqlgate server address (default: SQLGATE_SERVER)")
    parser.add_argument("--timeout", type=float, default=30.0, help="call timeout in seconds")
    add_tls_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    api_token = token_from_env()
    tls = tls_from_args(args)
    if not api_token and not (tls is not None and tls.has_client_cert):
        print(
            "sqlgate: error: set SQLGATE_TOKEN to your API token or give a client "
            "certificate (--tls-cert/--tls-key)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    address = args.server or server_from_env() or DEFAULT_LISTEN
    client = ExecutionClient(address, api_token=api_token, timeout_s=args.timeout, tls=tls)
    with client:
        try:
            issued = client.issue_token(args.verdict_id, args.env, args.target)
        except CallRefused as exc:
            print(f"sqlgate: error: token refused: {exc}", file=sys.stderr)
            return for_refusal(exc.code, exc.reason)
    print(issued.token)
    print(f"token {issued.token_id} expires at {issued.expires_at.isoformat()}", file=sys.stderr)
    return EXIT_OK
