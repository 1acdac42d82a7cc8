"""The cross-check's leading-keyword shortcut never hides a disagreement the full parse finds."""

from __future__ import annotations

import pytest
from sqlgate.parse.crosscheck import disagreement, full_disagreement, prefix_family, sqlglot_family

from .helpers import parse

# Statements of every family, in forms the shortcut takes and forms it must leave to the
# full parse (comments between keywords, WITH, parentheses, TEMP, odd names).
_SQL = """
CREATE TABLE t (a int);
CREATE TABLE function (a int);
CREATE TABLE IF NOT EXISTS s.t AS SELECT 1 AS a;
CREATE TEMP TABLE tt (a int);
CREATE /* c */ TABLE u (a int);
CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);
CREATE INDEX ON t (a);
CREATE OR REPLACE VIEW v AS SELECT 1;
CREATE MATERIALIZED VIEW mv AS SELECT 1;
DROP TABLE IF EXISTS t CASCADE;
DROP INDEX CONCURRENTLY i;
DROP VIEW v;
DROP MATERIALIZED VIEW mv;
ALTER TABLE t ADD COLUMN b int, DROP COLUMN a;
ALTER TABLE ONLY t RENAME TO t2;
ALTER TABLE t RENAME COLUMN a TO b;
INSERT INTO t (a) VALUES (1);
INSERT INTO t SELECT 1 ON CONFLICT DO NOTHING;
WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x;
UPDATE t SET a = 1 WHERE a = 2 RETURNING a;
DELETE FROM t USING u WHERE t.a = u.a;
SELECT 1 UNION SELECT 2;
SELECT 1 EXCEPT SELECT 2;
(SELECT 1);
SELECT
  1;
TRUNCATE t;
TRUNCATE TABLE t RESTART IDENTITY;
BEGIN;
BEGIN ISOLATION LEVEL SERIALIZABLE;
START TRANSACTION;
SAVEPOINT s;
ROLLBACK TO SAVEPOINT s;
RELEASE SAVEPOINT s;
COMMIT;
END;
ROLLBACK;
"""


def test_shortcut_decision_equals_full_parse_decision() -> None:
    statements = parse(_SQL).statements
    assert len(statements) > 30
    shortcut = 0
    for s in statements:
        assert disagreement(s) == full_disagreement(s), s.text
        if prefix_family(s.text) is not None:
            shortcut += 1
            theirs, _ = sqlglot_family(s.text)
            assert theirs in (None, prefix_family(s.text)), s.text
    assert shortcut > 20


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("CREATE TABLE t (a int)", "create:table"),
        ("create\n\ttable t (a int)", "create:table"),
        ("CREATE /* x */ TABLE t (a int)", None),
        ("CREATE TEMP TABLE t (a int)", None),
        ("CREATE UNIQUE INDEX i ON t (a)", "create:index"),
        ("CREATE OR REPLACE VIEW v AS SELECT 1", "create:view"),
        ("UPDATEx SET a = 1", None),
        ("SELECT\n1", "select"),
        ("BEGIN", "transaction"),
        ("BEGINNING", None),
        ("ſELECT 1", None),
        ("WITH x AS (SELECT 1) DELETE FROM t", None),
    ],
)
def test_prefix_family(text: str, family: str | None) -> None:
    assert prefix_family(text) == family


def test_a_contradicting_statement_still_gets_the_full_parse() -> None:
    # pglast says update but the text leads with DROP TABLE: the shortcut does not apply
    # (prefix family drop:table differs), so sqlglot's parse reports the disagreement.
    from sqlgate.model import Update

    s = Update(file="f", line=1, col=1, end_line=1, text="DROP TABLE t", table="t", has_where=False)
    why = disagreement(s)
    assert why is not None and "drop:table" in why
