"""The runner's failures, one exit code per failed check.

The thin side cannot import the server's error tree (``sqlgate.errors``), so the
runner names its own. Each error carries the process exit code a deploy pipeline
branches on; the table is repeated in ``sqlgate-runner --help``.

    RunnerError ............... 1  unexpected runner failure
    ├── UsageError ............ 2  bad arguments, unreadable files, malformed sidecar YAML,
    │                              sidecar timeouts weaker than the runner's
    ├── BadSignature .......... 10 token signature invalid, unknown or revoked key
    ├── TokenExpiredError ..... 11 token expired or not yet valid
    ├── ContextMismatch ....... 12 environment / target / runner / verdict claim mismatch
    │   └── PathMismatch ...... 12 the token's paths are not the paths this run hashed
    │                              (runner not started from check's repository root)
    ├── DigestMismatchError ... 13 a file's sha256 is not one the token was issued for
    ├── RedeemRefused ......... 14 the server refused redemption (replayed or revoked token)
    ├── HistoryConflict ....... 15 an applied migration's bytes changed (Flyway validate)
    ├── KeysetChanged ......... 16 the server's keyset differs from the pinned one
    ├── ServerUnavailable ..... 17 the sqlgate server could not be reached / errored
    ├── UnsupportedSql ........ 18 SQL the runner refuses to run (explicit transactions,
    │                              a batch directive on a statement it cannot chunk, ...)
    ├── LockBusy .............. 19 another runner holds the run lock on this database
    ├── SqlFailed ............. 20 a statement failed; see the report for what ran
    ├── Interrupted ........... 21 SIGINT/SIGTERM: stopped after the current chunk/statement
    ├── DatabaseUnavailable ... 22 the target database cannot be reached
    ├── RehearsalFailed ....... 23 rehearse: reconciliation differed, rollback left a
    │                              schema difference, or a required rollback is missing
    ├── ScratchFailed ......... 24 rehearse: the scratch database could not be built
    ├── SessionSettingsRefused  25 the lexer settings the review assumed cannot be pinned
    │                              on the session, or a statement changed them
    ├── BindingMismatch ....... 26 the run is not what the verdict binds: another dialect,
    │                              order, template expansion (--var), statement split or
    │                              server version; or a token without a binding
    └── WrongDatabase ......... 27 the connected database is not the target the verdict
                                   was reviewed for (system identifier / database name)
"""

from __future__ import annotations


class RunnerError(Exception):
    """Root of the runner's deliberate failures."""

    exit_code = 1


class UsageError(RunnerError):
    exit_code = 2


class BadSignature(RunnerError):
    exit_code = 10


class TokenExpiredError(RunnerError):
    exit_code = 11


class ContextMismatch(RunnerError):
    exit_code = 12


class PathMismatch(ContextMismatch):
    """The token names other file paths than the run's (same bytes or not): a wrong
    working directory or file list, said plainly rather than as a digest mismatch."""


class DigestMismatchError(RunnerError):
    exit_code = 13


class RedeemRefused(RunnerError):
    exit_code = 14


class HistoryConflict(RunnerError):
    exit_code = 15


class KeysetChanged(RunnerError):
    exit_code = 16


class ServerUnavailable(RunnerError):
    exit_code = 17


class UnsupportedSql(RunnerError):
    exit_code = 18


class LockBusy(RunnerError):
    exit_code = 19


class SqlFailed(RunnerError):
    exit_code = 20


class Interrupted(RunnerError):
    exit_code = 21


class DatabaseUnavailable(RunnerError):
    exit_code = 22


EXIT_CODE_TABLE = """exit codes:
  0  applied (or everything already applied)
  1  unexpected runner failure
  2  usage: bad arguments, unreadable file, malformed sidecar YAML, sidecar timeouts
     weaker than the runner's (--lock-timeout / --statement-timeout)
  10 token signature invalid, unknown or revoked key
  11 token expired or not yet valid
  12 environment / target / runner / verdict claim mismatch, or the token's paths are
     not this run's (run from the repository root `sqlgate check` ran in)
  13 a file's sha256 is not one the token was issued for
  14 redemption refused by the server (replayed or revoked token)
  15 history conflict: an applied migration's bytes changed
  16 the server's keyset differs from the pinned one (use --repin-keys)
  17 sqlgate server unreachable or failed
  18 SQL the runner refuses to run (explicit transaction control, unchunkable batch, ...)
  19 another runner holds the run lock on this database
  20 a statement failed (transactional migration rolled back)
  21 interrupted by SIGINT/SIGTERM after the current chunk; rerun to resume
  22 the target database cannot be reached
  23 rehearse: a reconciliation check differed, the rollback left a schema
     difference, or a required rollback is missing
  24 rehearse: the scratch database could not be built (pg_dump/psql version, dump,
     restore)
  25 the session settings the review assumed (standard_conforming_strings, ...) cannot
     be pinned, or a statement changed them (the transaction was rolled back)
  26 the run is not what the verdict binds: dialect, file order, template expansion
     (--var values), statement boundaries or server version differ, or no binding
  27 the connected database is not the target the verdict was reviewed for"""


class RehearsalFailed(RunnerError):
    """The rehearsal ran but found a problem: a reconciliation check differed, the
    rollback left the schema different, or a required rollback is missing."""

    exit_code = 23


class ScratchFailed(RunnerError):
    """The scratch database could not be built: pg_dump/psql missing or of another
    major version than the target, the dump or the restore failed."""

    exit_code = 24


class SessionSettingsRefused(RunnerError):
    exit_code = 25


class BindingMismatch(RunnerError):
    exit_code = 26


class WrongDatabase(RunnerError):
    exit_code = 27
