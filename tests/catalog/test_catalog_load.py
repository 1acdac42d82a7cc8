"""load_catalog/validate_catalog: well-formed catalogs load, malformed ones are refused.

Every malformed case is checked against policies/schema/catalog.json too, so the
Python validator and the published JSON Schema cannot drift apart silently.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlgate.catalog import load_catalog, validate_catalog
from sqlgate.errors import CatalogError, InputError

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "policies" / "schema" / "catalog.json").read_text()
)

GOOD: dict[str, Any] = {
    "version": 1,
    "dialect": "postgres",
    "server_version": "16.4",
    "server_version_num": 160004,
    "database": "app",
    "taken_at": "2026-01-02T03:04:05Z",
    "schemas": ["public"],
    "extensions": [{"name": "plpgsql", "version": "1.0", "schema": "pg_catalog"}],
    "tables": [
        {
            "schema": "public",
            "name": "users",
            "kind": "table",
            "partition_of": None,
            "row_estimate": 10,
            "size_bytes": 8192,
            "columns": [
                {
                    "name": "id",
                    "type": "bigint",
                    "nullable": False,
                    "default": None,
                    "identity": "always",
                    "generated": None,
                },
                {
                    "name": "email_lc",
                    "type": "text",
                    "nullable": True,
                    "default": None,
                    "identity": None,
                    "generated": {"kind": "stored", "expression": "lower(email)"},
                },
            ],
            "indexes": [
                {
                    "name": "users_pkey",
                    "columns": ["id"],
                    "include": [],
                    "unique": True,
                    "primary": True,
                    "partial": False,
                    "predicate": None,
                    "valid": True,
                    "method": "btree",
                    "definition": "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)",
                }
            ],
            "constraints": [
                {
                    "name": "users_pkey",
                    "type": "primary_key",
                    "columns": ["id"],
                    "validated": True,
                    "definition": "PRIMARY KEY (id)",
                }
            ],
            "foreign_keys": [
                {
                    "name": "users_org_fk",
                    "columns": ["org_id"],
                    "ref_table": "public.orgs",
                    "ref_columns": ["id"],
                    "validated": False,
                    "on_delete": "cascade",
                }
            ],
        }
    ],
}


def _schema_accepts(doc: Any) -> bool:
    return bool(jsonschema.Draft202012Validator(SCHEMA).is_valid(doc))


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_good_catalog_loads_and_matches_the_schema(tmp_path: Path) -> None:
    assert _schema_accepts(GOOD)
    assert load_catalog(_write(tmp_path, GOOD)) == GOOD


def test_extra_keys_are_allowed(tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    doc["future"] = {"x": 1}
    doc["tables"][0]["comment"] = "hello"
    assert _schema_accepts(doc)
    assert load_catalog(_write(tmp_path, doc))["future"] == {"x": 1}


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


MALFORMED = {
    "no tables": (_drop(["tables"]), "missing required key 'tables'"),
    "tables not a list": (_set(["tables"], {}), r"\$\.tables: expected a list"),
    "bad dialect": (_set(["dialect"], "oracle"), r"\$\.dialect: expected one of"),
    "naive taken_at": (_set(["taken_at"], "2026-01-02 03:04:05"), "RFC 3339"),
    "version num is bool": (_set(["server_version_num"], True), "expected an integer"),
    "table without name": (
        _drop(["tables", 0, "name"]),
        r"\$\.tables\[0\]: missing required key 'name'",
    ),
    "bad kind": (_set(["tables", 0, "kind"], "sequence"), r"\$\.tables\[0\]\.kind"),
    "row estimate below -1": (_set(["tables", 0, "row_estimate"], -5), "integer >= -1"),
    "unique as string": (
        _set(["tables", 0, "indexes", 0, "unique"], "yes"),
        r"\$\.tables\[0\]\.indexes\[0\]\.unique: expected a boolean",
    ),
    "index column not a string": (
        _set(["tables", 0, "indexes", 0, "columns"], ["id", 3]),
        r"indexes\[0\]\.columns\[1\]: expected a string",
    ),
    "index without valid": (_drop(["tables", 0, "indexes", 0, "valid"]), "'valid'"),
    "bad constraint type": (
        _set(["tables", 0, "constraints", 0, "type"], "foreign_key"),
        r"constraints\[0\]\.type",
    ),
    "bad on_delete": (
        _set(["tables", 0, "foreign_keys", 0, "on_delete"], "CASCADE"),
        r"foreign_keys\[0\]\.on_delete",
    ),
    "column nullable null": (
        _set(["tables", 0, "columns", 0, "nullable"], None),
        r"columns\[0\]\.nullable: expected a boolean, got null",
    ),
    "generated without expression": (
        _set(["tables", 0, "columns", 1, "generated"], {"kind": "stored"}),
        "'expression'",
    ),
    "extension without version": (_drop(["extensions", 0, "version"]), "'version'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_catalog_is_refused(case: str, tmp_path: Path) -> None:
    mutate, message = MALFORMED[case]
    doc = copy.deepcopy(GOOD)
    mutate(doc)
    assert not _schema_accepts(doc), f"JSON Schema accepts {case!r}"
    path = _write(tmp_path, doc)
    with pytest.raises(CatalogError, match=message) as info:
        load_catalog(path)
    assert isinstance(info.value, InputError)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_other_versions_are_refused(version: Any, tmp_path: Path) -> None:
    doc = copy.deepcopy(GOOD)
    doc["version"] = version
    assert not _schema_accepts(doc)
    with pytest.raises(CatalogError, match="unsupported catalog version"):
        load_catalog(_write(tmp_path, doc))


def test_missing_version_is_refused() -> None:
    doc = copy.deepcopy(GOOD)
    del doc["version"]
    with pytest.raises(CatalogError, match="unsupported catalog version None"):
        validate_catalog(doc)


def test_duplicate_table_is_refused() -> None:
    doc = copy.deepcopy(GOOD)
    doc["tables"].append(copy.deepcopy(doc["tables"][0]))
    with pytest.raises(CatalogError, match=r"duplicate table public\.users"):
        validate_catalog(doc)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[]", r"\$: expected an object, got a list"),
        (b"", "not valid JSON"),
    ],
)
def test_unparseable_files_are_refused(content: bytes, message: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(content)
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "absent.json")
