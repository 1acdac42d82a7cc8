"""How names in migrations meet names in a catalog.

MySQL/MariaDB migrations name tables unqualified: they resolve against the connection's
default schema, the database the catalog was read from (``catalog["database"]``). The
catalog lists those tables with ``schema`` = that database, so for the facts they are
keyed by their bare name, as the migrations write them (without this every ALTER of an
existing table was ``table-not-found`` once a catalog was given). PostgreSQL's
``public``-optional comparison is ``sqlgate.facts.norm``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def for_facts(catalog: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The catalog with a MySQL default schema's tables keyed by bare name."""
    if not catalog or catalog.get("dialect") != "mysql":
        return catalog
    database = catalog.get("database")
    tables = catalog.get("tables")
    if not database or not isinstance(tables, list):
        return catalog
    resolved = [
        {**t, "schema": ""} if isinstance(t, Mapping) and t.get("schema") == database else t
        for t in tables
    ]
    return {**catalog, "tables": resolved}
