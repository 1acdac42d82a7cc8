"""A stratified sample of findings over the real corpus, for judging precision.

    .venv/bin/python bench/precision_sample.py [--per-rule N] [--every K] > sample.jsonl

Reviews every K-th corpus file (per dialect and repository, sorted) as its own set with
the shipped policies, production levels and no catalog, then keeps at most N findings per
rule (deterministic: spread over repositories, first by path). Each line holds the rule,
level, repository, file, line, message and the statement's first 200 characters, to be
judged true or false positive by a reader (bench/precision.md records one judgement).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from sqlgate.errors import InputError
from sqlgate.parse.placeholders import names
from sqlgate.parse.source import SourceFile, decode
from sqlgate.policy.bundle import load_policy_set
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.review import MigrationFile, ReviewRequest, review

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--per-rule", type=int, default=3)
    ap.add_argument("--every", type=int, default=10)
    args = ap.parse_args(argv)
    engine = EmbeddedEngine(load_policy_set(ROOT / "policies"))
    by_rule: dict[str, dict[str, list[dict[str, object]]]] = collections.defaultdict(dict)
    for dialect in ("postgres", "mysql"):
        for repo in sorted(p for p in (args.corpus / dialect).iterdir() if p.is_dir()):
            files = sorted(p for p in repo.rglob("*") if p.is_file())[:: args.every]
            for path in files:
                content = path.read_bytes()
                try:
                    variables = dict.fromkeys(names(decode(SourceFile(str(path), content))), "x")
                    result = review(
                        ReviewRequest(
                            repo=repo.name, commit="", environment="production",
                            target="corpus", dialect=dialect,
                            migrations=[MigrationFile(path.name, content)],
                            variables=variables,
                        ),
                        engine=engine,
                    )  # fmt: skip
                except InputError:
                    continue
                text = content.decode("utf-8", "replace").splitlines()
                for f in result.findings:
                    line = text[f.line - 1].strip()[:200] if 0 < f.line <= len(text) else ""
                    by_rule[f.rule].setdefault(repo.name, []).append(
                        {"rule": f.rule, "level": f.level, "dialect": dialect,
                         "repo": repo.name, "file": path.name, "line": f.line,
                         "message": f.message, "source_line": line}
                    )  # fmt: skip
    engine.close()
    for rule in sorted(by_rule):
        repos = by_rule[rule]
        picked: list[dict[str, object]] = []
        depth = 0
        while len(picked) < args.per_rule and any(len(v) > depth for v in repos.values()):
            for name in sorted(repos):
                if depth < len(repos[name]) and len(picked) < args.per_rule:
                    picked.append(repos[name][depth])
            depth += 1
        for item in picked:
            print(json.dumps(item, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
