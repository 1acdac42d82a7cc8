"""Coverage-guided fuzzing of the parser's fail-closed contract with atheris.

Each input's first byte picks the dialect; the rest is the migration file. The target
asserts what ``tests/fuzz/invariants.py`` asserts: statements or an InputError naming the
file, never another exception, and nothing dropped. A crash is saved by libFuzzer as
``crash-<sha1>`` in the working directory; turn each into a regression case in
tests/fuzz/test_regressions.py.

    .venv/bin/pip install atheris   # or: pip install -e .[fuzz]
    .venv/bin/python bench/fuzz_parse.py -max_total_time=300 -max_len=4096 [CORPUS_DIR ...]

Without a corpus directory it seeds from a sample of /work/shared/corpus when present.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"

with atheris.instrument_imports():
    import sqlgate.parse
    import sqlgate.parse.pgfile
    import sqlgate.parse.split  # noqa: F401 - imported under instrumentation for coverage
    from sqlgate.errors import InputError

sys.path.insert(0, str(ROOT))
from tests.fuzz.invariants import check_no_drop, parse_or_refuse  # noqa: E402


def target(data: bytes) -> None:
    if not data:
        return
    dialect = "mysql" if data[0] & 1 else "postgres"
    content = data[1:]
    result = parse_or_refuse(content, dialect)
    if not isinstance(result, InputError):
        check_no_drop(content, dialect, result)


def _seed_dir(count: int = 300) -> str:
    """A temporary directory of small corpus files (first byte: dialect), for seeding."""
    out = Path(tempfile.mkdtemp(prefix="sqlgate-fuzz-seed-"))
    files = sorted(SHARED_CORPUS.glob("*/*/*.sql")) if SHARED_CORPUS.is_dir() else []
    small = [f for f in files if f.stat().st_size <= 4096][:: max(1, len(files) // count)]
    for i, f in enumerate(small[:count]):
        tag = b"\x01" if f.parts[-3] == "mysql" else b"\x00"
        (out / f"seed{i:04d}").write_bytes(tag + f.read_bytes())
    (out / "seed-min").write_bytes(b"\x00SELECT 1; DROP TABLE t;")
    return str(out)


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):
        argv.append(_seed_dir())
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
