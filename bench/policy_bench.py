"""Policy evaluation benchmark: how the Rego policy set scales with statement count.

Generates seeded PostgreSQL migrations with ``check_bench.generate`` (the same mix the
throughput benchmark reviews), parses them and derives facts exactly as
``sqlgate.review`` does, builds the policy input with ``build_policy_input``, then:

(a) times ``EmbeddedEngine.evaluate`` (the production path: JSON encoding, worker thread,
    clone, evaluation, result parsing) for each size in ``--sizes`` (best of ``--repeat``),
    and prints the time per 1,000 statements so linear growth is visible at a glance;
(b) times each rule's ``report`` alone (``data.sqlgate.rules.<family>.<rule>.report`` on a
    clone of a prepared regorus engine) over the largest input and prints the top 10,
    plus ``data.sqlgate.main.raw`` (every report) and ``data.sqlgate.main.result``;
(c) the per-evaluation overhead on a one-statement input (µs, mean of many), with the
    number of loaded modules.

The server's budget for each size (config ``policies.timeout_s`` plus
``policies.timeout_per_1k_statements_s`` per 1,000 statements) is printed next to (a); a
size over it is flagged. Per-rule times in (b) each include the shared ``lib`` package
(``by_kind``, ``typed_columns``), which a full evaluation computes once. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_bench import generate
from sqlgate.config import LimitsConfig, PolicyConfig
from sqlgate.facts import derive
from sqlgate.parse import Limits, SourceFile, parse_migrations
from sqlgate.policy.bundle import PolicySet, load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, build_policy_input

STATEMENTS_PER_FILE = 24
MAX_FILES = 1000  # below limits.max_files; larger sets get longer files


def build_input(statements: int, seed: int) -> dict[str, Any]:
    """The policy input for about ``statements`` generated statements, as review builds it."""
    files = max(1, min(statements // STATEMENTS_PER_FILE, MAX_FILES))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out, files, statements, seed)
        migrations = [
            MigrationFile(path=p.name, content=p.read_bytes()) for p in sorted(out.glob("*.sql"))
        ]
    request = ReviewRequest(
        repo="bench",
        commit="0" * 40,
        environment="production",
        target="bench",
        dialect="postgres",
        migrations=migrations,
    )
    limits = Limits(max_statements=LimitsConfig().max_statements)
    parsed = parse_migrations(
        [SourceFile(path=m.path, content=m.content) for m in migrations],
        "postgres",
        limits=limits,
    )
    derived = derive(parsed.statements, catalog=None, dialect="postgres")
    return build_policy_input(
        request,
        files=[
            {"path": f.path, "sha256": f.sha256, "statements": f.statements, "metadata": {}}
            for f in parsed.files
        ],
        statements=[s.to_json() for s in derived.statements],
        facts=derived.to_json(),
        catalog=None,
    )


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def rule_packages(policy_set: PolicySet) -> list[str]:
    """Every ``data.sqlgate.rules.<family>.<rule>`` package that defines a report."""
    return sorted(
        {
            p
            for p in policy_set.packages
            if p.startswith("data.sqlgate.rules.") and not p.endswith("_test")
        }
    )


def time_queries(
    policy_set: PolicySet, policy_input: dict[str, Any], queries: list[str], repeat: int
) -> dict[str, float]:
    """Each query alone on a fresh clone of one prepared engine, best of ``repeat``.

    Only the query is timed: loading the input into the clone is the same for every query.
    """
    prepared = policy_set.new_engine()
    input_json = json.dumps(policy_input)
    times: dict[str, float] = {}
    for query in queries:
        best = float("inf")
        for _ in range(repeat):
            engine = prepared.clone()
            engine.set_input_json(input_json)
            started = time.perf_counter()
            engine.eval_query_as_json(query)
            best = min(best, time.perf_counter() - started)
            del engine
        times[query] = best
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", type=Path, default=PolicyConfig().dir)
    parser.add_argument("--sizes", default="1000,5000,10000,20000")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--repeat", type=int, default=2, help="runs per size; the best counts")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--small-runs", type=int, default=200)
    parser.add_argument("--no-rules", action="store_true", help="skip the per-rule table")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    policy_set = load_policy_set(args.policies)
    config = PolicyConfig()
    timeout_s = config.timeout_s
    sizes = [int(s) for s in args.sizes.split(",") if s]
    figures: dict[str, Any] = {"timeout_s": timeout_s, "sizes": [], "rules": {}}
    engine = EmbeddedEngine(policy_set, timeout_s=3600.0, workers=1)
    try:
        print(f"policy set: {len(policy_set.modules)} modules, digest {policy_set.digest[:19]}")
        print(
            f"configured budget: {timeout_s:g}s + {config.timeout_per_1k_statements_s:g}s "
            "per 1k statements"
        )
        print(
            f"{'statements':>10} {'evaluate s':>11} {'ms/1k stmts':>12} {'findings':>9} "
            f"{'budget s':>9}"
        )
        largest: dict[str, Any] = {}
        for size in sizes:
            policy_input = build_input(size, args.seed)
            n = len(policy_input["statements"])
            findings: list[int] = []

            def evaluate(pi: dict[str, Any] = policy_input, out: list[int] = findings) -> None:
                out.append(len(engine.evaluate(pi).findings))

            elapsed = best_of(args.repeat, evaluate)
            budget = timeout_s + config.timeout_per_1k_statements_s * n / 1000
            flag = "  OVER BUDGET" if elapsed > budget else ""
            print(
                f"{n:>10} {elapsed:>11.3f} {elapsed / n * 1e6:>12.1f} {findings[-1]:>9} "
                f"{budget:>9.1f}{flag}"
            )
            figures["sizes"].append({"statements": n, "seconds": elapsed, "findings": findings[-1]})
            largest = policy_input

        small = build_input(1, args.seed)
        engine.evaluate(small)  # the worker prepares its engine on first use
        started = time.perf_counter()
        for _ in range(args.small_runs):
            engine.evaluate(small)
        per_eval_us = (time.perf_counter() - started) / args.small_runs * 1e6
        n_small = len(small["statements"])
        print(
            f"per-evaluation overhead ({n_small} statement(s), {len(policy_set.modules)} "
            f"modules): {per_eval_us:.0f} µs"
        )
        figures["small_eval_us"] = per_eval_us
        figures["modules"] = len(policy_set.modules)
    finally:
        engine.close()

    if not args.no_rules and largest:
        n = len(largest["statements"])
        queries = [f"{p}.report" for p in rule_packages(policy_set)]
        times = time_queries(policy_set, largest, queries, 1)
        whole = time_queries(
            policy_set, largest, ["data.sqlgate.main.raw", "data.sqlgate.main.result"], 1
        )
        print(f"\nper rule, each alone over {n} statements (top {args.top}):")
        for query, secs in sorted(times.items(), key=lambda kv: -kv[1])[: args.top]:
            short = query.removeprefix("data.sqlgate.rules.").removesuffix(".report")
            print(f"  {secs:>8.3f} s  {short}")
        print(f"  sum over {len(times)} rules: {sum(times.values()):.3f} s")
        for query, secs in whole.items():
            print(f"  {secs:>8.3f} s  {query}")
        figures["rules"] = {**times, **whole}

    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
