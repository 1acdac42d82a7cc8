"""Signing side of the trust chain: private keysets, DSSE/in-toto verdicts and PASETO
execution tokens. Verification lives in ``sqlgate_client.trust`` (offline, thin) and is
re-exported here with server error classes."""
