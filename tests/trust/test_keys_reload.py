"""A directory keyset follows ``sqlgate keys`` changes made by another process, and fails
closed when the changed directory does not load (it never keeps trusting old keys)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlgate.errors import ConfigError
from sqlgate.trust.keys import KeyRecord, Keyset


def test_another_process_rotation_and_revocation_are_seen(tmp_path: Path) -> None:
    running = Keyset.generate(tmp_path / "keys")
    old = running.signer("verdict").key_id
    seen: list[tuple[list[KeyRecord], list[KeyRecord]]] = []
    running.on_change = lambda before, after: seen.append((before, after))
    assert running.refresh() is False  # nothing changed: one stat, no reload

    operator = Keyset.load(tmp_path / "keys")  # ``sqlgate keys`` in another process
    new = operator.rotate("verdict").key_id
    assert running.signer("verdict").key_id == new
    operator.revoke(old)
    states = {e.key_id: e.state for e in running.public_keyset()}
    assert (states[old], states[new]) == ("revoked", "active")
    assert len(seen) == 2
    assert {k.key_id: k.state for k in seen[1][1]}[old] == "revoked"


@pytest.mark.parametrize("damage", ["truncate", "remove", "missing_pem"])
def test_a_directory_that_no_longer_loads_fails_every_use(tmp_path: Path, damage: str) -> None:
    keys = tmp_path / "keys"
    running = Keyset.generate(keys)
    manifest = keys / "keyset.json"
    if damage == "truncate":
        manifest.write_text('{"keys": [')
    elif damage == "remove":
        manifest.unlink()
    else:
        operator = Keyset.load(keys)
        new = operator.rotate("token")
        (keys / f"{new.key_id}.pem").unlink()
    with pytest.raises(ConfigError):
        running.signer("verdict")
    with pytest.raises(ConfigError):
        running.public_keyset()
