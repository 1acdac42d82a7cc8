"""Running reconciliation checks (``reconcile`` in a migration's metadata).

Each check runs in its own READ ONLY transaction that is rolled back, so a check can
never change the scratch database it verifies. A result is the query's rows (or its
error, which is a result too: a check that fails after the rollback but worked before
it is a difference). ``unchanged`` compares whole results; ``zero rows`` requires an
empty result every time it runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import yaml

from sqlgate_client.metaheader import Check, header_block, parse_checks
from sqlgate_client.runner.errors import UsageError

Connection = psycopg.Connection[tuple[object, ...]]
_SHOWN = 3


def checks_of(path: str, data: bytes) -> list[Check]:
    """The file's ``reconcile`` checks from its sidecar or its ``-- sqlgate:meta`` header."""
    sidecar = Path(path).with_name(Path(path).name + ".yaml")
    raw: object = None
    where = str(sidecar)
    try:
        if sidecar.exists():
            raw = yaml.safe_load(sidecar.read_bytes())
        else:
            header = header_block(data.decode("utf-8-sig"))
            where = f"{path} (-- sqlgate:meta header)"
            raw = yaml.safe_load(header) if header else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{where}: unreadable metadata: {exc}") from exc
    if not isinstance(raw, dict) or "reconcile" not in raw:
        return []
    try:
        return parse_checks(raw["reconcile"])
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class Result:
    rows: int
    digest: str
    sample: tuple[str, ...]
    error: str = ""

    def show(self) -> str:
        if self.error:
            return f"error: {self.error}"
        more = f" (+{self.rows - len(self.sample)} more)" if self.rows > len(self.sample) else ""
        return f"{self.rows} row(s) [{'; '.join(self.sample)}]{more}"


def run_check(conn: Connection, check: Check, statement_timeout: str) -> Result:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (statement_timeout,))
            rows = conn.execute(check.sql.encode()).fetchall()
    except psycopg.Error as exc:
        state = f" [{exc.diag.sqlstate}]" if exc.diag.sqlstate else ""
        return Result(0, "", (), f"{exc.diag.message_primary or str(exc).strip()}{state}")
    # Values compared as text: sum(integer) is bigint, sum(bigint) numeric; a column
    # whose type the migration widened must not make an equal aggregate "differ".
    text = ["(" + ", ".join("NULL" if v is None else str(v) for v in r) + ")" for r in rows]
    digest = hashlib.sha256("\n".join(text).encode()).hexdigest()
    return Result(len(rows), digest, tuple(text[:_SHOWN]))


@dataclass
class Outcome:
    check: str
    file: str
    expect: str
    phase: str  # "after migration", "after backfill (line 7)", "after rollback"
    passed: bool
    before: str
    after: str

    def line(self) -> str:
        head = f"{'ok' if self.passed else 'DIFFERS'}: {self.file} {self.check} {self.phase}"
        if self.expect == "zero rows":
            return f"{head}: expected zero rows, {self.after}"
        return f"{head}: before {self.before}, after {self.after}"


@dataclass
class Reconciler:
    """Checks of the rehearsed files, with the results to compare later ones against."""

    conn: Connection
    statement_timeout: str
    checks: dict[str, list[Check]] = field(default_factory=dict)
    baseline: dict[tuple[str, str], Result] = field(default_factory=dict)
    before_file: dict[tuple[str, str], Result] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    def take_baseline(self) -> None:
        """Every check before any migration runs: what the rollback must restore."""
        for path, checks in self.checks.items():
            for c in checks:
                self.baseline[(path, c.name)] = run_check(self.conn, c, self.statement_timeout)

    def before(self, path: str) -> None:
        for c in self.checks.get(path, []):
            self.before_file[(path, c.name)] = run_check(self.conn, c, self.statement_timeout)

    def verify(self, path: str, phase: str) -> None:
        """Checks of ``path`` against their value before that file ran."""
        self._compare(path, phase, self.before_file)

    def verify_rollback(self) -> None:
        for path in self.checks:
            self._compare(path, "after rollback", self.baseline)

    def _compare(self, path: str, phase: str, ref: dict[tuple[str, str], Result]) -> None:
        for c in self.checks.get(path, []):
            now = run_check(self.conn, c, self.statement_timeout)
            old = ref.get((path, c.name))
            if c.expect == "zero rows":
                passed = not now.error and now.rows == 0
            else:
                passed = old is not None and not old.error and old == now
            self.outcomes.append(
                Outcome(
                    c.name,
                    path,
                    c.expect,
                    phase,
                    passed,
                    old.show() if old is not None else "not run",
                    now.show(),
                )
            )

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]
