"""What process isolation costs: IsolatedEngine (worker processes) vs EmbeddedEngine (threads).

Both engines evaluate the shipped policies on the same inputs, built exactly as review
builds them (``policy_bench.build_input``: generated PostgreSQL migrations, parsed, facts
derived). Printed, for each mode:

- start-up: constructing the engine until it can answer (process mode: spawning the
  workers, importing regorus and compiling the policies in each);
- a small input (1 statement): mean per evaluation over ``--small-runs`` calls, after one
  warm-up, so the fixed cost (JSON, pipe round trip or thread hand-off, clone) shows;
- a large input (``--large`` statements, 10,000 by default): best of ``--repeat``, so the
  cost of shipping a multi-megabyte input through the pipe shows next to the evaluation.

The results are also checked to be identical between the two modes. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _measure(
    name: str,
    make: Any,
    small: dict[str, Any],
    large: dict[str, Any],
    *,
    runs: int,
    repeat: int,
) -> dict[str, Any]:
    from policy_bench import best_of

    started = time.perf_counter()
    engine = make()
    startup = time.perf_counter() - started
    try:
        engine.evaluate(small)  # warm-up: the thread engine prepares on first use
        started = time.perf_counter()
        for _ in range(runs):
            engine.evaluate(small)
        small_us = (time.perf_counter() - started) / runs * 1e6
        large_s = best_of(repeat, lambda: engine.evaluate(large))
        results = (engine.evaluate(small), engine.evaluate(large))
    finally:
        engine.close()
    print(
        f"{name:>8} {startup:>11.3f} {small_us:>16.0f} {large_s:>15.3f}",
        flush=True,
    )
    return {"startup_s": startup, "small_us": small_us, "large_s": large_s, "results": results}


def _round_trips(runs: int, workers: int) -> dict[str, float]:
    """Mean µs per evaluation of a policy whose result is a constant: the engine's fixed
    cost (JSON, hand-off or pipe round trip, clone, result parsing) with no rule work."""
    import tempfile

    from sqlgate.policy.bundle import load_policy_set
    from sqlgate.policy.embedded import EmbeddedEngine
    from sqlgate.policy.isolated import IsolatedEngine

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.rego").write_text(
            'package sqlgate.main\n\nresult := {"decision": "allow", "findings": []}\n'
        )
        policy_set = load_policy_set(Path(tmp))
        for mode, cls in (("thread", EmbeddedEngine), ("process", IsolatedEngine)):
            engine = cls(policy_set, timeout_s=60.0, workers=workers)
            try:
                doc = {"statements": [{"kind": "select"}]}
                engine.evaluate(doc)
                started = time.perf_counter()
                for _ in range(runs):
                    engine.evaluate(doc)
                out[mode] = (time.perf_counter() - started) / runs * 1e6
            finally:
                engine.close()
    return out


def main(argv: list[str] | None = None) -> int:
    from policy_bench import build_input
    from sqlgate.config import PolicyConfig
    from sqlgate.policy.bundle import load_policy_set
    from sqlgate.policy.embedded import EmbeddedEngine
    from sqlgate.policy.isolated import IsolatedEngine

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", type=Path, default=PolicyConfig().dir)
    parser.add_argument("--large", type=int, default=10_000, help="statements in the big input")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--small-runs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    policy_set = load_policy_set(args.policies)
    small = build_input(1, args.seed)
    large = build_input(args.large, args.seed)
    n_large = len(large["statements"])
    print(
        f"inputs: {len(small['statements'])} statement(s); {n_large} statements "
        f"({len(json.dumps(large)) / 1e6:.1f} MB of JSON); {args.workers} workers"
    )
    print(f"{'mode':>8} {'start-up s':>11} {'small eval µs':>16} {'large eval s':>15}")
    kwargs: dict[str, Any] = {"timeout_s": 3600.0, "workers": args.workers}
    thread = _measure(
        "thread",
        lambda: EmbeddedEngine(policy_set, **kwargs),
        small,
        large,
        runs=args.small_runs,
        repeat=args.repeat,
    )
    process = _measure(
        "process",
        lambda: IsolatedEngine(policy_set, **kwargs),
        small,
        large,
        runs=args.small_runs,
        repeat=args.repeat,
    )
    same = thread.pop("results") == process.pop("results")
    trivial = _round_trips(args.small_runs, args.workers)
    print(
        "fixed cost alone (constant result rule, same small input): "
        + ", ".join(f"{mode} {us:.0f} µs" for mode, us in trivial.items())
    )
    print(
        f"process - thread: {process['small_us'] - thread['small_us']:+.0f} µs per small "
        f"evaluation, {process['large_s'] - thread['large_s']:+.3f} s on {n_large} statements; "
        f"results identical: {same}"
    )
    if args.json:
        figures = {
            "statements": n_large,
            "thread": thread,
            "process": process,
            "fixed_cost_us": trivial,
            "same": same,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
