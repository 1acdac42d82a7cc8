"""Live-schema catalog: read a database's schema read-only, and load a saved one.

``read_catalog(dsn)`` queries pg_catalog / information_schema in a READ ONLY
transaction; ``load_catalog(path)`` validates a saved catalog. See docs/catalog.md.
"""

from sqlgate.catalog.load import CATALOG_VERSION, load_catalog, validate_catalog
from sqlgate.catalog.read import dumps_catalog, read_catalog

__all__ = [
    "CATALOG_VERSION",
    "dumps_catalog",
    "load_catalog",
    "read_catalog",
    "validate_catalog",
]
