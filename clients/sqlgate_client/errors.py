"""The thin side's error tree for trust checks (the runner and offline verifiers).

The client may not import the server package, so it has its own small tree. The
server's classes in ``sqlgate.errors`` *subclass* these (e.g. ``sqlgate.errors.
SignatureError`` is both a ``sqlgate.errors.TrustError`` and a
``sqlgate_client.errors.SignatureError``), so ``except sqlgate_client.errors.TrustError``
catches failures raised on either side, and the server's ``sqlgate.trust`` wrappers
re-raise client failures as the matching server class.

    TrustError ............. a signature, key or claim does not check out
    ├── SignatureError ..... bad or forged signature, tampered envelope, wrong payload type
    ├── KeyRefused ......... unknown, revoked or wrong-purpose key id
    ├── ClaimError ......... a required claim is missing, malformed or does not match
    │   └── TokenExpired ... outside the validity window (token exp/nbf, verdict expires_at)
    └── DigestMismatch ..... the bytes are not the bytes that were reviewed
"""

from __future__ import annotations


class TrustError(Exception):
    """A signature, key or claim failed verification; never treat it as an allow."""


class SignatureError(TrustError):
    """A signature is invalid, or the envelope/token is not what was signed."""


class KeyRefused(TrustError):
    """The key id is unknown to the pinned keyset, revoked, or of another purpose."""


class ClaimError(TrustError):
    """A required claim is missing, malformed or does not match the recomputed context."""


class TokenExpired(ClaimError):
    """Outside the validity window: exp/expires_at passed or nbf not reached."""


class DigestMismatch(TrustError):
    """The bytes presented are not the bytes that were reviewed."""
