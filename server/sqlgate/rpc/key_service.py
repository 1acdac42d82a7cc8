"""``sqlgate.v1.KeyService.GetKeys``: the public half of every key, with its state.

Any authenticated principal may read it (runners and auditors pin it). Revoked keys
are listed as revoked rather than dropped, so a verifier that pinned them learns they
must no longer verify anything. Read from the live keyset on every call, so a rotation
or revocation shows at once.
"""

from __future__ import annotations

import grpc
from sqlgate_client.gen.sqlgate.v1 import keys_pb2, keys_pb2_grpc

from sqlgate.auth.principal import current_principal
from sqlgate.errors import Unauthenticated
from sqlgate.trust.keys import Keyset


class KeyService(keys_pb2_grpc.KeyServiceServicer):
    def __init__(self, keyset: Keyset) -> None:
        self._keyset = keyset

    def GetKeys(
        self, request: keys_pb2.GetKeysRequest, context: grpc.ServicerContext
    ) -> keys_pb2.GetKeysResponse:
        del request
        try:
            current_principal()
        except Unauthenticated as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
        return self._keyset.public_keyset().to_proto()
