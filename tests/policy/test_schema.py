"""policies/schema/input.json: a valid JSON Schema that accepts the contract and refuses drift."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from .inputs import SCHEMA, VALIDATOR, policy_input, stmt


def _good() -> dict[str, Any]:
    column = {
        "name": "c",
        "type": "text",
        "not_null": True,
        "default": None,
        "default_volatile": False,
        "primary_key": False,
    }
    fk = {
        "name": "fk",
        "columns": ["c"],
        "ref_table": "u",
        "ref_columns": ["id"],
        "not_valid": True,
        "on_delete": None,
    }
    return policy_input(
        [
            stmt("add_column", 0, table="t", column=column, foreign_key=fk),
            stmt("unknown", 1, reason="boundary disagreement"),
        ],
        indexes=[
            {"name": "i", "table": "t", "columns": ["c"], "unique": False, "source": "pending"}
        ],
    )


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_accepts_the_contract_shape() -> None:
    VALIDATOR.validate(_good())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("statements"),
        lambda d: d.update(dialect="oracle"),
        lambda d: d.update(version=2),
        lambda d: d["statements"][0].pop("facts"),
        lambda d: d["statements"][0].update(column="c"),  # add_column needs a column object
        lambda d: d["statements"][0]["foreign_key"].update(columns=[]),
        lambda d: d["statements"][1].pop("reason"),
        lambda d: d["statements"][1].update(index=-1),
        lambda d: d["facts"].pop("indexes"),
        lambda d: d["files"][0].update(sha256="xyz"),
    ],
)
def test_refuses_drift(breakage: Any) -> None:
    doc = copy.deepcopy(_good())
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(doc)
