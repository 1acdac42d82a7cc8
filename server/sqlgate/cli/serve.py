"""``sqlgate serve``: run the gRPC service until SIGTERM/SIGINT.

Policies are loaded and compiled before the server listens: a broken policy tree or
config stops start-up with a message (exit 6), it never serves without policy. A listen
address already in use (even by another sqlgate) stops it too (exit 2).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from sqlgate.cli.main import EXIT_OK, EXIT_USAGE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the sqlgate gRPC service")
    p.add_argument("--config", type=Path, help="YAML config file")
    p.add_argument("--listen", metavar="ADDR", help="host:port (default 127.0.0.1:50051)")
    p.add_argument("--policies", type=Path, metavar="DIR", help="policies directory")
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlgate.config import load_config, with_overrides
    from sqlgate.errors import ListenError
    from sqlgate.rpc.server import serve

    logging.basicConfig(
        level=str(args.log_level).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from sqlgate import faults

    if faults.armed():
        logging.getLogger(__name__).warning(
            "SQLGATE_FAULT=%s is set: this server will kill itself at that point "
            "(crash tests only)",
            faults.armed(),
        )
    config = with_overrides(
        load_config(args.config), listen=args.listen, policies_dir=args.policies
    )
    try:
        serve(config)
    except ListenError as exc:
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
