"""The rehearsal as text for a terminal or CI log (the JSON form is ``Rehearsal.to_json``)."""

from __future__ import annotations

from sqlgate_client.runner.rehearse.rehearsal import Rehearsal


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return f"{n} B"


def text(r: Rehearsal, *, require_rollback: bool) -> list[str]:
    lines = [
        f"rehearsal in scratch database {r.scratch_database} "
        f"(PostgreSQL {r.server_version // 10000}.{r.server_version % 10000}); "
        f"{'dropped' if r.scratch_dropped else 'NOT DROPPED'} afterwards",
        f"seed: {r.seed.total_rows} rows, {_size(r.seed.total_bytes)} "
        f"({'; '.join(r.seed.sources) or 'schema only'})",
    ]
    for table, why in sorted(r.seed.not_generated.items()):
        lines.append(f"  not generated: {table}: {why}")
    lines.append(f"pending: {', '.join(r.pending) or 'nothing'}")
    for t in r.statements:
        rows = f", {t.rows} rows" if t.rows >= 0 else ""
        lines.append(f"{t.file}:{t.line} [{t.outcome}] {t.duration_ms:.1f} ms{rows}: {t.sql[:100]}")
        lines.extend(f"    {line}" for line in t.lock_lines())
        for w in t.rewrites:
            lines.append(
                f"    rewrote {w.kind} {w.relation} (relfilenode {w.relfilenode_before} -> "
                f"{w.relfilenode_after}, {_size(w.bytes_after)} after)"
            )
        for c in t.chunks:
            lines.append(f"    chunk {c.number}: {c.rows} rows in {c.duration_ms:.1f} ms")
        if t.error:
            lines.append(f"    error: {t.error}")
        if t.note:
            lines.append(f"    note: {t.note}")
    for o in r.reconciliation:
        lines.append(f"reconciliation {o.line()}")
    rb = r.rollback
    if rb.status == "passed":
        lines.append(f"rollback test: passed ({', '.join(rb.ran)}; schema equals the original)")
    elif rb.status == "missing":
        lines.append(f"rollback test: not run, rollback missing: {'; '.join(rb.missing)}")
    elif rb.status == "failed":
        lines.append(f"rollback test: FAILED ({', '.join(rb.ran)}) {rb.error}".rstrip())
        lines.extend(f"  {d}" for d in rb.diff)
    else:
        lines.append("rollback test: not run")
    problems = r.problems(require_rollback=require_rollback)
    if r.error:
        lines.append(f"result: STOPPED: {r.error}")
    elif problems:
        lines.append(f"result: FAILED ({len(problems)} problem(s))")
    else:
        lines.append("result: passed")
    return lines
