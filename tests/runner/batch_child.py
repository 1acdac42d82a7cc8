"""Subprocess body for the SIGINT test: apply one file with real signal handling.

Usage: python batch_child.py DSN SCHEMA FILE  (exit code = the runner's exit code)
"""

from __future__ import annotations

import sys

import psycopg
from sqlgate_client.runner.apply import Applier, StopFlag
from sqlgate_client.runner.history import History
from sqlgate_client.runner.migrations import Timeouts, load


def main() -> int:
    dsn, schema, path = sys.argv[1:4]
    stop = StopFlag()
    stop.install()
    with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema}") as conn:
        history = History(conn, f"{schema}.schema_history")
        history.ensure()
        history.lock()
        applier = Applier(conn, history, runner_id="child", stop=stop, out=sys.stdout)
        migrations = [load(path, Timeouts(), server_version=conn.info.server_version)]
        result = applier.apply(migrations, applier.validate(migrations))
    print(f"RESULT chunks={result.files[0].chunks}", flush=True)
    return result.error.exit_code if result.error else 0


if __name__ == "__main__":
    sys.exit(main())
