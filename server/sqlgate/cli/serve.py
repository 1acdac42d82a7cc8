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
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="text, or json: one object per line, one line per RPC (default: config, text)",
    )
    p.add_argument(
        "--metrics-listen",
        metavar="ADDR",
        help="serve Prometheus /metrics on host:port (default: config metrics_listen, off)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlgate.config import load_config, with_env, with_overrides
    from sqlgate.errors import ListenError
    from sqlgate.observe.logs import setup_logging
    from sqlgate.observe.metrics import MetricsServer, start_metrics_server
    from sqlgate.rpc.server import serve

    # File, then SQLGATE_* environment (what a container injects), then flags.
    config = with_overrides(
        with_env(load_config(args.config)),
        listen=args.listen,
        policies_dir=args.policies,
        metrics_listen=args.metrics_listen,
        log_format=args.log_format,
    )
    setup_logging(str(args.log_level), config.log_format)
    from sqlgate import faults

    if faults.armed():
        logging.getLogger(__name__).warning(
            "SQLGATE_FAULT=%s is set: this server will kill itself at that point "
            "(crash tests only)",
            faults.armed(),
        )
    metrics: MetricsServer | None = None
    try:
        if config.metrics_listen:
            metrics = start_metrics_server(config.metrics_listen)
            logging.getLogger(__name__).info(
                "metrics on %s (port %d, /metrics)", config.metrics_listen, metrics.port
            )
        serve(config)
    except ListenError as exc:
        print(f"sqlgate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if metrics is not None:
            metrics.stop()
    return EXIT_OK
