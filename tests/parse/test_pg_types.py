"""The fast type printer agrees with pglast's deparser on every type it handles."""

from __future__ import annotations

import pglast
import pytest
from sqlgate.parse.pg import sql_text, type_text

TYPES = [
    "int", "integer", "bigint", "smallint", "real", "float", "double precision", "boolean",
    "varchar(10)", "character varying(255)", "char(3)", "character", "numeric(10,2)",
    "decimal", "text", "timestamptz", "timestamp(3) with time zone", "uuid", "int[]", "jsonb",
    "bit(3)", "interval", "time", "public.mytype", "varchar", '"MyType"', '"user"', "serial",
    "bigserial", "citext", "tsvector", "bytea", "json", "date", "inet", "money",
]  # fmt: skip


@pytest.mark.parametrize("type_sql", TYPES)
def test_fast_type_text_matches_deparser(type_sql: str) -> None:
    stmt = pglast.parse_sql(f"CREATE TABLE t (a {type_sql})")[0].stmt
    type_name = stmt.tableElts[0].typeName
    assert type_text(type_name) == sql_text(type_name)
