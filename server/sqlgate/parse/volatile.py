"""Which column defaults are volatile (evaluated per row, so ADD COLUMN rewrites the table).

PostgreSQL >= 11 adds a column with a non-volatile default without a rewrite: the value
is computed once. ``now()``, ``CURRENT_TIMESTAMP``, ``current_date`` ... are *stable*
and so are NOT listed. Listed are the volatile built-ins and common extension functions:
a default calling any of them (anywhere in its expression) has ``default_volatile``.
serial/bigserial/smallserial imply ``nextval()`` and are volatile too.
"""

from __future__ import annotations

VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "random_normal",
        "setseed",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "statement_timestamp",  # stable in fact, but differs per statement: kept conservative
        "nextval",
        "currval",
        "lastval",
        "txid_current",
        "pg_current_xact_id",
        "gen_random_bytes",
        "uuid",  # MySQL UUID()
        "uuid_short",
        "rand",  # MySQL RAND()
        "sysdate",  # MySQL SYSDATE() is evaluated per row
    }
)

SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})


def is_volatile_name(name: str) -> bool:
    """True for a (possibly schema-qualified) function name in the volatile list."""
    return name.rsplit(".", 1)[-1].lower() in VOLATILE_FUNCTIONS
