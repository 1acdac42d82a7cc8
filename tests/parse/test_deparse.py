"""``pg.sql_text`` (faster ancestors walk) prints exactly what pglast's ``RawStream`` prints."""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast
from pglast.stream import RawStream
from sqlgate.parse.pg import sql_text

_SQL = """
ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT now() + interval '1 day';
ALTER TABLE t ALTER COLUMN c TYPE numeric(10, 2)[] USING (c::text)::numeric(10, 2)[];
CREATE TABLE u (a int GENERATED ALWAYS AS (b * 2 + -1) STORED, b int DEFAULT nextval('s'),
  c text COLLATE "C" DEFAULT 'x''y', d jsonb DEFAULT '{}'::jsonb, e bool DEFAULT (NOT false),
  EXCLUDE USING gist (r WITH &&, (lower(n)) WITH =));
CREATE INDEX i ON t ((lower(a) || b), (CASE WHEN x THEN 1 ELSE (SELECT max(y) FROM z) END));
SELECT ARRAY[1, 2]::bigint[], a IS DISTINCT FROM b, x BETWEEN 1 AND 2, f(VARIADIC ARRAY[1]),
  coalesce(a, b), EXISTS (SELECT 1), row(1, 2), current_timestamp, a -> 'k' ->> 'j', $1;
"""


def _nodes(node: Any) -> list[Any]:
    out: list[Any] = []
    if isinstance(node, tuple):
        for item in node:
            out += _nodes(item)
    elif isinstance(node, ast.Node):
        out.append(node)
        for attr in node:
            if attr != "ancestors":
                out += _nodes(getattr(node, attr))
    return out


def test_sql_text_equals_rawstream_for_every_node() -> None:
    # Two separate trees: RawStream sets `ancestors` on the nodes it prints, and sql_text
    # must not lean on a walk some earlier print happened to leave behind.
    compared = 0
    theirs, ours = pglast.parse_sql(_SQL), pglast.parse_sql(_SQL)
    for raw_t, raw_o in zip(theirs, ours, strict=True):
        for node_t, node_o in zip(_nodes(raw_t.stmt), _nodes(raw_o.stmt), strict=True):
            try:
                expected = RawStream()(node_t)
            except Exception:
                continue
            assert sql_text(node_o) == expected, type(node_o).__name__
            compared += 1
    assert compared > 100
