"""Smoke test: every file of the real-world corpus parses without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate.errors import PlaceholderError
from sqlgate.parse import SourceFile, parse_migrations

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_every_corpus_file_parses(dialect: str) -> None:
    root = CORPUS / dialect
    if not root.is_dir():
        pytest.skip(f"corpus not present at {root}")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files
    parsed = 0
    for path in files:
        try:
            result = parse_migrations([SourceFile(str(path), path.read_bytes())], dialect)  # type: ignore[arg-type]
        except PlaceholderError:
            continue  # templates without supplied values are refused, as designed
        parsed += 1
        for s in result.statements:
            assert s.text and s.line >= 1 and s.end_line >= s.line
            if s.kind == "unknown":
                assert s.to_json()["reason"]
    assert parsed > len(files) // 2
