"""``sqlgate-runner apply``: verify the token, redeem it, apply the reviewed bytes, report.

Order of a run, each step refusing with its own exit code before anything executes:

1. resend reports spooled by earlier runs (never fatal);
2. collect and order the files, read each file's bytes once and sha256 them;
3. get the token (``--token``, or ``--verdict`` -> IssueExecutionToken) and verify it
   offline against the pinned keys: signature (10), expiry (11), environment, target,
   runner and verdict (12), the digest of every file (13);
   then check the run against the verdict's binding the token carries (26): dialect
   PostgreSQL, the files in the reviewed order, each file expanded with ``--var``
   values hashing to the reviewed expansion, the runner's split cutting exactly the
   reviewed statement spans (those spans are what runs);
4. connect; pin the session settings the review assumed and read them back (25);
   prove the database is the bound target when the verdict binds its identity (27)
   and runs the assumed server version (26); take the advisory run lock (19), check
   the history table: bytes of an applied migration changed (15); plan the
   statements, refusing what the runner does not run (18);
5. RedeemToken (14: replayed or revoked) — only now is anything executed;
6. apply (20: SQL failed, 21: interrupted), record history, ReportExecution (spooled
   to the state dir when the server cannot be reached).

Paths are digested under the name ``sqlgate check`` submits them with (relative to
the working directory, forward slashes): run the runner from the same directory.

    sqlgate-runner apply --server ADDR --dsn DSN --env E --target T
                         [--token TOKEN | --verdict ID] [--keys FILE]
                         [--var NAME=VALUE ...] PATH...

The API token comes from SQLGATE_TOKEN (sent as ``authorization: Bearer``), the
runner identity from ``--runner-id`` or SQLGATE_RUNNER_ID. TLS to the server:
``--tls-ca/--tls-cert/--tls-key`` (or SQLGATE_TLS_CA/CERT/KEY; ``--ca-cert`` is the old
name of ``--tls-ca``), a client certificate being mTLS; ``--tls`` alone uses the
system's root CAs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

import psycopg

from sqlgate_client.check import display_path, names_base
from sqlgate_client.ordering import collect
from sqlgate_client.runner import session
from sqlgate_client.runner.apply import Applier, RunResult, StopFlag
from sqlgate_client.runner.errors import (
    EXIT_CODE_TABLE,
    BindingMismatch,
    ContextMismatch,
    DatabaseUnavailable,
    RunnerError,
    UsageError,
)
from sqlgate_client.runner.history import History, HistoryRow
from sqlgate_client.runner.migrations import (
    Migration,
    Timeouts,
    bind,
    check_duration,
    load,
    plan,
)
from sqlgate_client.runner.remote import Remote
from sqlgate_client.runner.report import (
    Spool,
    build_report,
    connection_lost,
    deliver,
    retry_spooled,
)
from sqlgate_client.runner.trust import check_token, check_verdict, load_keyset
from sqlgate_client.tls import TlsOptionError, add_tls_arguments, tls_from_args
from sqlgate_client.trust.binding import Binding
from sqlgate_client.trust.tokens import unverified_claims
from sqlgate_client.trust.verdict import VerdictInfo


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sqlgate-runner",
        description="Apply reviewed migrations with a single-use sqlgate execution token.",
        epilog=EXIT_CODE_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser(
        "apply",
        help="verify, redeem, apply, report",
        epilog=EXIT_CODE_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("--server", required=True, help="sqlgate gRPC address (host:port)")
    a.add_argument("--dsn", required=True, help="PostgreSQL connection string of the target")
    a.add_argument("--env", required=True, dest="environment", help="environment, e.g. production")
    a.add_argument("--target", required=True, help="target database name as reviewed")
    tok = a.add_mutually_exclusive_group(required=True)
    tok.add_argument("--token", help="execution token (PASETO v4.public)")
    tok.add_argument("--verdict", help="verdict id: ask the server for a token first")
    a.add_argument("--keys", type=Path, help="pinned public keyset JSON (else pinned via GetKeys)")
    a.add_argument("--repin-keys", action="store_true", help="accept a changed server keyset")
    a.add_argument(
        "--state-dir", type=Path, default=Path(".sqlgate-runner"), help="pinned keys, spool"
    )
    a.add_argument("--runner-id", default=os.environ.get("SQLGATE_RUNNER_ID"))
    a.add_argument("--history-table", default="sqlgate.schema_history", help="schema.table")
    a.add_argument("--lock-timeout", default="5s")
    a.add_argument("--statement-timeout", default="15min")
    add_tls_arguments(a, ca_aliases=("--ca-cert",))
    a.add_argument("--rpc-timeout", type=float, default=30.0, help="seconds per server call")
    a.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template placeholder value, exactly as given to `sqlgate check` (repeatable)",
    )
    a.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _rehearse_parser(sub)
    return parser


def _rehearse_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    r = sub.add_parser(
        "rehearse",
        help="run the migrations in a scratch copy of the target's schema and measure them",
        epilog=EXIT_CODE_TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--dsn", required=True, help="the target (read only: schema, history, sizes)")
    r.add_argument(
        "--scratch-dsn",
        required=True,
        help="a server (same major version) where the runner may CREATE/DROP DATABASE",
    )
    r.add_argument("--history-table", default="sqlgate.schema_history", help="schema.table")
    r.add_argument("--lock-timeout", default="5s")
    r.add_argument("--statement-timeout", default="15min")
    r.add_argument("--seed-sql", type=Path, help="SQL file run in the scratch before the test")
    r.add_argument(
        "--seed-csv", action="append", default=[], metavar="TABLE=FILE", help="CSV with header"
    )
    r.add_argument("--generate-rows", type=int, default=0, metavar="N", help="rows per empty table")
    r.add_argument("--no-rollback-test", action="store_true", help="skip the rollback test")
    r.add_argument(
        "--require-rollback", action="store_true", help="a missing rollback fails (exit 23)"
    )
    r.add_argument("--report", type=Path, help="write the rehearsal as JSON to this file")
    r.add_argument("--runner-id", default=os.environ.get("SQLGATE_RUNNER_ID") or "rehearsal")
    r.add_argument(
        "--verdict",
        help="rehearse exactly this verdict's files: fetched with --server, its signature "
        "checked against the pinned keys and its digests against the files read",
    )
    r.add_argument("--server", help="sqlgate gRPC address (with --verdict)")
    r.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --verdict: template values exactly as given to `sqlgate check` (repeatable)",
    )
    r.add_argument(
        "--submit",
        action="store_true",
        help="send the result to the server as evidence for the verdict (SubmitRehearsal)",
    )
    r.add_argument("--keys", type=Path, help="pinned public keyset JSON (else pinned via GetKeys)")
    r.add_argument("--repin-keys", action="store_true", help="accept a changed server keyset")
    r.add_argument("--state-dir", type=Path, default=Path(".sqlgate-runner"), help="pinned keys")
    r.add_argument("--rpc-timeout", type=float, default=30.0, help="seconds per server call")
    add_tls_arguments(r, ca_aliases=("--ca-cert",))
    r.add_argument("paths", nargs="+", type=Path, metavar="PATH")


def _rehearsed_verdict(args: argparse.Namespace, migrations: list[Migration]) -> VerdictInfo:
    """The signed verdict the rehearsal must match: same paths, same bytes (else 12/13)."""
    if not args.server:
        raise UsageError("--verdict needs --server to fetch it")
    try:
        tls = tls_from_args(args)
    except TlsOptionError as exc:
        raise UsageError(str(exc)) from exc
    with Remote(
        args.server, api_token=os.environ.get("SQLGATE_TOKEN"), timeout_s=args.rpc_timeout, tls=tls
    ) as remote:
        envelope = remote.get_verdict(args.verdict)
        keyset = load_keyset(
            keys_file=args.keys, state_dir=args.state_dir, remote=remote, repin=args.repin_keys
        )
    return check_verdict(
        envelope, keyset, verdict_id=args.verdict, files={m.path: m.data for m in migrations}
    )


def _submit(
    args: argparse.Namespace, migrations: list[Migration], document: str, out: TextIO
) -> None:
    """SubmitRehearsal: the report as evidence for ``--verdict`` (recorded and audited)."""
    import uuid

    from sqlgate_client.gen.sqlgate.v1 import common_pb2, execution_pb2

    request = execution_pb2.SubmitRehearsalRequest(
        evidence_id=uuid.uuid4().hex,
        verdict_id=args.verdict,
        digests=[common_pb2.FileDigest(path=m.path, sha256=m.sha256) for m in migrations],
        rehearsal=document.encode(),
    )
    try:
        tls = tls_from_args(args)
    except TlsOptionError as exc:
        raise UsageError(str(exc)) from exc
    with Remote(
        args.server, api_token=os.environ.get("SQLGATE_TOKEN"), timeout_s=args.rpc_timeout, tls=tls
    ) as remote:
        sequence, passed = remote.submit_rehearsal(request)
    print(
        f"evidence for verdict {args.verdict} recorded as audit event {sequence} "
        f"({'passed' if passed else 'FAILED'})",
        file=out,
    )


def run_rehearse(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from sqlgate_client.runner.errors import RehearsalFailed
    from sqlgate_client.runner.rehearse import render
    from sqlgate_client.runner.rehearse.rehearsal import Options, rehearse

    timeouts = Timeouts(
        lock_timeout=check_duration(args.lock_timeout, "--lock-timeout"),
        statement_timeout=check_duration(args.statement_timeout, "--statement-timeout"),
    )
    if args.generate_rows < 0:
        raise UsageError("--generate-rows must be >= 0")
    migrations = _read_migrations(args.paths, timeouts)
    if args.dsn.startswith(("mysql:", "mariadb:")):
        raise UsageError(
            "rehearse runs PostgreSQL targets only: MySQL/MariaDB have no transactional DDL "
            "and no pg_locks, so what a rehearsal measures there is not implemented"
        )
    if args.submit and not args.verdict:
        raise UsageError("--submit needs --verdict (evidence is bound to a verdict)")
    verdict = _rehearsed_verdict(args, migrations) if args.verdict else None
    if verdict is not None:
        # The verdict's whole binding, as apply checks it (26): dialect, order, the reviewed
        # template expansion and statement spans, which then are what the scratch runs.
        check_binding(verdict.binding, migrations, _variables(args.var))
    elif args.var:
        raise UsageError("--var goes with --verdict (the values are checked against its binding)")
    opts = Options(
        target_dsn=args.dsn,
        scratch_dsn=args.scratch_dsn,
        history_table=args.history_table,
        timeouts=timeouts,
        seed_sql=args.seed_sql,
        seed_csv=list(args.seed_csv),
        generate_rows=args.generate_rows,
        rollback_test=not args.no_rollback_test,
        runner_id=args.runner_id,
    )
    stop = StopFlag()
    stop.install()
    result = rehearse(migrations, opts, stop=stop, out=err)
    if verdict is not None:
        result.verdict = {
            "verdict_id": verdict.verdict_id,
            "environment": verdict.environment,
            "target": verdict.target,
            "decision": verdict.decision,
            "policy_digest": verdict.policy_digest,
        }
        print(
            f"rehearsed verdict {verdict.verdict_id} ({verdict.environment}/{verdict.target}): "
            "files and digests verified against its signature",
            file=out,
        )
    for line in render.text(result, require_rollback=args.require_rollback):
        print(line, file=out)
    document = json.dumps(result.to_json(), indent=2, default=str)
    if args.report is not None:
        args.report.write_text(document + "\n")
    if args.submit:
        _submit(args, migrations, document, out)
    if result.error:
        print(f"error: {result.error}", file=err)
        return result.error_code or 1
    problems = result.problems(require_rollback=args.require_rollback)
    if problems:
        failed = RehearsalFailed("; ".join(problems))
        print(f"error: {failed}", file=err)
        return failed.exit_code
    return 0


def _read_migrations(
    paths: Sequence[Path], timeouts: Timeouts, *, split_now: bool = True
) -> list[Migration]:
    """Read and hash; ``split_now=False`` (apply) leaves the split to the binding check."""
    files = collect(list(paths))
    if not files:
        raise UsageError("no migration files found")
    base = names_base(files)  # the names `sqlgate check` sent for the same files
    return [
        load(display_path(f, base), timeouts, server_version=None, split_now=split_now)
        for f in files
    ]


def _variables(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
        if name in out:
            raise UsageError(f"--var {name} given twice")
        out[name] = value
    return out


def check_binding(
    binding: Binding, migrations: Sequence[Migration], variables: Mapping[str, str]
) -> None:
    """The run is what the verdict binds (BindingMismatch otherwise); see module docstring."""
    if binding.dialect != "postgres":
        raise BindingMismatch(
            f"the verdict reviewed this SQL as {binding.dialect!r}; sqlgate-runner executes "
            "PostgreSQL only"
        )
    paths = [m.path for m in migrations]
    if paths != binding.order:
        raise BindingMismatch(
            "the files are not in the order they were reviewed: reviewed "
            f"{binding.order}, this run would apply {paths}"
        )
    for m in migrations:
        bind(m, binding.file(m.path), variables)


def _covered(token: str, migrations: list[Migration]) -> list[Migration]:
    """The migrations the token names (all of them if it names none: check_token refuses).

    Read from the unverified claims only to choose which digests to verify; check_token
    then verifies the signature and that these are exactly the token's files."""
    said = unverified_claims(token)
    named = said.get("digests") if isinstance(said, dict) else None
    if not isinstance(named, dict):
        return migrations
    covered = [m for m in migrations if m.path in named]
    return covered or migrations


def _require_applied(context: list[Migration], rows: dict[str, HistoryRow | None]) -> None:
    """Files outside the token must already be applied (same bytes: history checked)."""
    missing = [m.path for m in context if not ((row := rows.get(m.path)) and row.success)]
    if missing:
        raise ContextMismatch(
            f"{', '.join(missing)}: not covered by the verdict (a pending-set review treats "
            "files outside it as already applied) and not applied on this database; "
            "review them (check without --since/--base) before applying"
        )


def _summary(result: RunResult, out: TextIO) -> None:
    for f in result.files:
        ran = sum(1 for s in f.statements if s.outcome == "succeeded")
        extra = f", {f.chunks} chunk(s)" if f.chunks else ""
        print(f"{f.outcome:<11} {f.path} ({ran}/{len(f.statements)} statements{extra})", file=out)
        for s in f.statements:
            if s.outcome == "failed":
                print(f"  failed at line {s.line}: {s.error}", file=out)


def run_apply(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not args.runner_id:
        raise UsageError("runner identity required: --runner-id or SQLGATE_RUNNER_ID")
    timeouts = Timeouts(
        lock_timeout=check_duration(args.lock_timeout, "--lock-timeout"),
        statement_timeout=check_duration(args.statement_timeout, "--statement-timeout"),
    )
    try:
        tls = tls_from_args(args)
    except TlsOptionError as exc:
        raise UsageError(str(exc)) from exc
    variables = _variables(args.var)
    state_dir: Path = args.state_dir
    spool = Spool(state_dir / "spool")
    with Remote(
        args.server,
        api_token=os.environ.get("SQLGATE_TOKEN"),
        timeout_s=args.rpc_timeout,
        tls=tls,
    ) as remote:
        if spool.pending():
            retry_spooled(remote, spool, err)

        everything = _read_migrations(args.paths, timeouts, split_now=False)

        token: str = args.token or ""
        if args.verdict:
            token = remote.issue_token(args.verdict, args.environment, args.target).token
        # A pending-set verdict covers only the reviewed files; the others given here were
        # context (already applied) and must be applied on this database (checked below).
        migrations = _covered(token, everything)
        digests = {m.path: m.sha256 for m in migrations}
        keyset = load_keyset(
            keys_file=args.keys, state_dir=state_dir, remote=remote, repin=args.repin_keys
        )
        claims = check_token(
            token,
            keyset,
            environment=args.environment,
            target=args.target,
            runner=args.runner_id,
            digests=digests,
        )
        if args.verdict and claims.verdict_id != args.verdict:
            raise ContextMismatch(
                f"token is for verdict {claims.verdict_id}, not the requested {args.verdict}"
            )
        check_binding(claims.binding, migrations, variables)

        try:
            conn = psycopg.connect(args.dsn, autocommit=True, prepare_threshold=None)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot connect to the target database: {exc}") from exc
        with conn:
            session.pin(conn, claims.binding.settings)
            session.prove_target(conn, claims.binding.target_identity)
            session.check_server_version(conn, claims.binding)
            history = History(conn, args.history_table)
            history.lock()
            try:
                version = conn.info.server_version
                for m in migrations:
                    m.steps = plan(m, server_version=version)
                stop = StopFlag()
                applier = Applier(
                    conn,
                    history,
                    runner_id=args.runner_id,
                    stop=stop,
                    out=err,
                    settings=claims.binding.settings,
                )
                rows = applier.validate(everything)
                _require_applied([m for m in everything if m.path not in digests], rows)
                rows = {m.path: rows[m.path] for m in migrations}
                if all(r is not None and r.success for r in rows.values()):
                    print("nothing to apply: every migration is already applied", file=out)
                    return 0

                history.preflight()
                redeemed = remote.redeem(token, args.environment, args.target, digests)
                applier.token_id = redeemed.token_id or claims.jti
                applier.verdict_id = redeemed.verdict_id or claims.verdict_id
                # Before anything executes: a kill from here on leaves this report.
                started = spool.start(token_id=applier.token_id, verdict_id=applier.verdict_id)
                stop.install()
                try:
                    history.ensure()
                    result = applier.apply(migrations, rows)
                except psycopg.Error as exc:
                    if not (conn.broken or conn.closed):
                        raise
                    result = connection_lost(exc)
            finally:
                if not (conn.broken or conn.closed):
                    history.unlock()

        _summary(result, out)
        request = build_report(
            result,
            token_id=applier.token_id,
            verdict_id=applier.verdict_id,
            report_id=started.report_id,
        )
        sequence = deliver(remote, spool, request, err)
        if sequence is not None:
            print(f"reported as audit event {sequence}", file=out)
        if result.error is not None:
            print(f"error: {result.error}", file=err)
            return result.error.exit_code
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        args = build_parser().parse_args(argv)
        if args.command == "rehearse":
            return run_rehearse(args, out, err)
        return run_apply(args, out, err)
    except RunnerError as exc:
        print(f"sqlgate-runner: {exc}", file=err)
        print(f"sqlgate-runner: exit {exc.exit_code}; nothing further was executed", file=err)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
