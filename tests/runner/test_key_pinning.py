"""Key pinning against the real server's GetKeys: the first run pins the served keyset
to the state dir, a rotation on the live server is refused (exit 16) until
--repin-keys, and an unauthenticated caller gets no keys (exit 17)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live import RUNNER, Live, live_server
from sqlgate_client.runner.errors import KeysetChanged, ServerUnavailable
from sqlgate_client.runner.remote import Remote
from sqlgate_client.runner.trust import load_keyset


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as served:
        yield served


def test_first_run_pins_then_rotation_is_refused_until_repin(tmp_path: Path, live: Live) -> None:
    state = tmp_path / "state"
    keyset = live.running.app.keyset
    with Remote(live.address, api_token=live.tokens[RUNNER], timeout_s=10) as remote:
        first = load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)
        assert (state / "keys.json").read_text() == keyset.public_keyset().to_json()
        assert first.to_json() == keyset.public_keyset().to_json()
        # unchanged: accepted
        load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)

        keyset.rotate("token")  # the live server now serves another token key
        with pytest.raises(KeysetChanged) as info:
            load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)
        assert info.value.exit_code == 16
        assert (state / "keys.json").read_text() == first.to_json()  # pin untouched
        repinned = load_keyset(keys_file=None, state_dir=state, remote=remote, repin=True)
        assert repinned.to_json() == keyset.public_keyset().to_json() != first.to_json()
        assert (state / "keys.json").read_text() == repinned.to_json()


def test_unauthenticated_runner_gets_no_keys(tmp_path: Path, live: Live) -> None:
    with (
        Remote(live.address, api_token=None, timeout_s=10) as remote,
        pytest.raises(ServerUnavailable, match="UNAUTHENTICATED"),
    ):
        load_keyset(keys_file=None, state_dir=tmp_path / "state", remote=remote, repin=False)
    assert not (tmp_path / "state" / "keys.json").exists()
