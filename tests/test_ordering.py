"""sqlgate_client.ordering: files in the order the migration tool applies them."""
# ruff: noqa: E501 - case tables read best one case per line

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate_client.ordering import collect, order


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["V1.10__c.sql", "V1.9__b.sql", "V2__d.sql", "R__views.sql", "V1__a.sql", "R__a_fns.sql", "U2__undo.sql"],
            ["V1__a.sql", "V1.9__b.sql", "V1.10__c.sql", "V2__d.sql", "R__a_fns.sql", "R__views.sql"],
        ),
        (["V1_2__x.sql", "V1_10__y.sql"], ["V1_2__x.sql", "V1_10__y.sql"]),
        (
            ["10_add.up.sql", "2_init.up.sql", "2_init.down.sql", "10_add.down.sql"],
            ["2_init.up.sql", "10_add.up.sql"],
        ),
        (["b10.sql", "b2.sql", "a.sql"], ["a.sql", "b2.sql", "b10.sql"]),
    ],
)  # fmt: skip
def test_order(names: list[str], expected: list[str]) -> None:
    assert [p.name for p in order([Path(n) for n in names])] == expected


def test_collect_expands_directories(tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    (d / "sub").mkdir(parents=True)
    for name in ["V2__b.sql", "V10__c.sql", "notes.txt", "sub/V1__a.sql"]:
        (d / name).write_text("SELECT 1;")
    extra = tmp_path / "V3__extra.sql"
    extra.write_text("SELECT 1;")
    got = collect([d, extra, d / "V2__b.sql"])
    assert [p.name for p in got] == ["V1__a.sql", "V2__b.sql", "V3__extra.sql", "V10__c.sql"]
