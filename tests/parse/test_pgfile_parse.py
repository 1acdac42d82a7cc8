"""``pgfile.parse_sql`` builds the same trees as pglast's validated construction."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pglast
import pytest
from pglast import ast
from pglast.parser import ParseError
from sqlgate.parse.pgfile import parse_sql

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "postgres"

_SQL = """
CREATE TABLE t (a int PRIMARY KEY, b char(1) DEFAULT 'x', c numeric(10,2)[] NOT NULL,
  d bit varying(3), e interval DAY TO SECOND(3), f float, g text COLLATE "C",
  CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) ON DELETE SET NULL DEFERRABLE);
ALTER TABLE ONLY t ADD COLUMN IF NOT EXISTS h int GENERATED ALWAYS AS IDENTITY,
  ALTER COLUMN c TYPE text USING c::text, DROP CONSTRAINT fk CASCADE;
CREATE UNIQUE INDEX CONCURRENTLY i ON t USING btree (lower(g) DESC NULLS LAST) WHERE a > 1.5e3;
SELECT 1.5, -2, 'a' || B'101' || X'ff', $1, ARRAY[[1]], (1, 2), NULL::int, true
  FROM t WHERE a = ANY ('{1}') GROUP BY ROLLUP (a) WINDOW w AS (ORDER BY a);
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
DO $$ BEGIN PERFORM 1; END $$; GRANT SELECT ON t TO r; COPY t FROM STDIN; VACUUM ANALYZE t;
"""


def _same(a: Any, b: Any) -> bool:
    """Deep equality including positions (Node.__eq__ skips location fields)."""
    if isinstance(a, ast.Node):
        return type(a) is type(b) and all(
            _same(getattr(a, k), getattr(b, k)) for k in a if k != "ancestors"
        )
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and bool(a == b)


def _assert_validating() -> None:
    """Outside a parse, pglast's validating __setattr__ is back (and Boolean has no own)."""
    bad: Any = 42
    with pytest.raises(ValueError, match="Bad value"):
        ast.RangeVar(relname=bad)
    assert "__setattr__" not in vars(ast.Boolean)


def test_same_tree_as_pglast() -> None:
    assert _same(parse_sql(_SQL), tuple(pglast.parse_sql(_SQL)))


def test_same_trees_on_corpus_files() -> None:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())[:400] if CORPUS.is_dir() else []
    if not files:
        pytest.skip("corpus not available")
    compared = 0
    for p in files:
        text = p.read_bytes().decode("utf-8", errors="replace")
        try:
            expected = tuple(pglast.parse_sql(text))
        except ParseError:
            continue
        assert _same(parse_sql(text), expected), p
        compared += 1
    assert compared > 200


def test_errors_unchanged_and_validation_restored() -> None:
    with pytest.raises(ParseError) as ours:
        parse_sql("SELECT FROM WHERE (")
    with pytest.raises(ParseError) as theirs:
        pglast.parse_sql("SELECT FROM WHERE (")
    assert str(ours.value) == str(theirs.value)
    _assert_validating()


def test_concurrent_parses_restore_validation() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                parse_sql(_SQL)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _assert_validating()
