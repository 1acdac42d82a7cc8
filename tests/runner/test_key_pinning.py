"""Key pinning: the first run pins GetKeys to the state dir, a later change is refused
(exit 16) until --repin-keys. Keys come from freshly generated server keysets, served
by a gRPC KeyService on 127.0.0.1 that answers with ``PublicKeyset.to_proto()``."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlgate.trust.keys import Keyset
from sqlgate_client.gen.sqlgate.v1 import keys_pb2, keys_pb2_grpc
from sqlgate_client.runner.errors import KeysetChanged
from sqlgate_client.runner.remote import Remote
from sqlgate_client.runner.trust import load_keyset


class Keys(keys_pb2_grpc.KeyServiceServicer):
    def __init__(self, response: keys_pb2.GetKeysResponse) -> None:
        self.response = response

    def GetKeys(self, request: keys_pb2.GetKeysRequest, context: Any) -> keys_pb2.GetKeysResponse:
        return self.response


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Keys, Keyset]]:
    keyset = Keyset.generate(tmp_path / "server-keys")
    keys = Keys(keyset.public_keyset().to_proto())
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    keys_pb2_grpc.add_KeyServiceServicer_to_server(keys, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    try:
        yield f"127.0.0.1:{port}", keys, keyset
    finally:
        srv.stop(None)


def test_first_run_pins_then_change_is_refused_until_repin(
    tmp_path: Path, served: tuple[str, Keys, Keyset]
) -> None:
    address, keys, keyset = served
    state = tmp_path / "state"
    with Remote(address, api_token=None, timeout_s=5) as remote:
        first = load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)
        assert (state / "keys.json").read_text() == keyset.public_keyset().to_json()
        assert first.to_json() == keyset.public_keyset().to_json()
        # unchanged: accepted
        load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)

        keyset.rotate("token")  # the server now serves another token key
        keys.response = keyset.public_keyset().to_proto()
        with pytest.raises(KeysetChanged) as info:
            load_keyset(keys_file=None, state_dir=state, remote=remote, repin=False)
        assert info.value.exit_code == 16
        repinned = load_keyset(keys_file=None, state_dir=state, remote=remote, repin=True)
        assert repinned.to_json() == keyset.public_keyset().to_json()
        assert (state / "keys.json").read_text() == repinned.to_json()
