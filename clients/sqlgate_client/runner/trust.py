"""Key pinning and the offline token check, mapped to the runner's exit codes.

Keys: ``--keys FILE`` pins explicitly. Otherwise the first run fetches GetKeys and
pins the answer to ``<state dir>/keys.json``; every later run fetches again and
refuses (KeysetChanged, 16) a keyset that differs from the pinned one unless
``--repin-keys`` is given: a server that suddenly signs with other keys is not
trusted on its own word.

Token: ``sqlgate_client.trust.tokens.verify_token`` checks signature, claims and the
implicit assertion. When it refuses, the runner only *classifies* the refusal to pick
an exit code (a token genuinely issued for other bytes is 13, for another
environment/target/runner 12, for other *paths* 12 with a message saying the runner
must run from the repository root ``sqlgate check`` ran in); the token is refused
either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlgate_client.errors import ClaimError, KeyRefused, SignatureError, TokenExpired, TrustError
from sqlgate_client.runner.errors import (
    BadSignature,
    ContextMismatch,
    DigestMismatchError,
    KeysetChanged,
    PathMismatch,
    TokenExpiredError,
    UsageError,
)
from sqlgate_client.runner.remote import Remote
from sqlgate_client.trust.keyset import PublicKeyset
from sqlgate_client.trust.tokens import TokenClaims, unverified_claims, verify_token
from sqlgate_client.trust.verdict import VerdictInfo, check_files, verify_verdict


def load_keyset(
    *, keys_file: Path | None, state_dir: Path, remote: Remote | None, repin: bool
) -> PublicKeyset:
    """The pinned keyset (see module docstring)."""
    if keys_file is not None:
        try:
            return PublicKeyset.from_json(keys_file.read_bytes())
        except OSError as exc:
            raise UsageError(f"--keys {keys_file}: {exc.strerror}") from exc
        except KeyRefused as exc:
            raise BadSignature(f"--keys {keys_file}: {exc}") from exc
    pinned_path = state_dir / "keys.json"
    if remote is None:
        raise UsageError("no --keys file and no server to fetch keys from")
    served = remote.get_keys()  # BadSignature when malformed
    if pinned_path.exists() and not repin:
        try:
            pinned = PublicKeyset.from_json(pinned_path.read_bytes())
        except KeyRefused as exc:
            raise KeysetChanged(f"{pinned_path} is not a valid keyset: {exc}") from exc
        if pinned.to_json() != served.to_json():
            raise KeysetChanged(
                f"the server's keyset differs from the one pinned in {pinned_path}; "
                "verify the rotation out of band, then rerun with --repin-keys"
            )
        return pinned
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = pinned_path.with_suffix(".tmp")
    tmp.write_text(served.to_json(), encoding="utf-8")
    tmp.replace(pinned_path)
    return served


def check_token(
    token: str,
    keyset: PublicKeyset,
    *,
    environment: str,
    target: str,
    runner: str,
    digests: Mapping[str, str],
    now: datetime | None = None,
) -> TokenClaims:
    """verify_token, with each refusal mapped to its distinct runner error."""
    try:
        return verify_token(
            token,
            keyset,
            environment=environment,
            target=target,
            runner=runner,
            digests=digests,
            now=now,
        )
    except TokenExpired as exc:
        raise TokenExpiredError(f"execution token: {exc}") from exc
    except ClaimError as exc:
        said = unverified_claims(token)
        claims = said if isinstance(said, dict) else {}
        same_context = (
            claims.get("environment") == environment
            and claims.get("target") == target
            and claims.get("runner") == runner
        )
        token_digests = claims.get("digests")
        if same_context and isinstance(token_digests, dict) and set(token_digests) != set(digests):
            raise PathMismatch(
                "execution token covers the path(s) "
                f"{', '.join(sorted(token_digests)) or '(none)'} but this run hashed "
                f"{', '.join(sorted(digests)) or '(none)'}; paths are compared exactly as "
                "`sqlgate check` submitted them (relative to its working directory): run "
                "sqlgate-runner from the same repository root with the same files"
            ) from exc
        if same_context and token_digests != dict(digests):
            raise DigestMismatchError(
                f"execution token was issued for other bytes or files than these: {exc}"
            ) from exc
        raise ContextMismatch(f"execution token: {exc}") from exc
    except (SignatureError, KeyRefused) as exc:
        raise BadSignature(f"execution token: {exc}") from exc
    except TrustError as exc:
        raise BadSignature(f"execution token: {exc}") from exc


def check_verdict(
    envelope: bytes,
    keyset: PublicKeyset,
    *,
    verdict_id: str,
    files: Mapping[str, bytes],
    now: datetime | None = None,
) -> VerdictInfo:
    """The verdict ``verdict_id``, verified against the pinned keys, covering exactly
    ``files`` (path -> the bytes about to run); each refusal mapped to its exit code."""
    try:
        info = verify_verdict(envelope, keyset, now=now)
    except TokenExpired as exc:
        raise TokenExpiredError(f"verdict: {exc}") from exc
    except (SignatureError, KeyRefused) as exc:
        raise BadSignature(f"verdict: {exc}") from exc
    except TrustError as exc:
        raise BadSignature(f"verdict: {exc}") from exc
    if info.verdict_id != verdict_id:
        raise ContextMismatch(f"the server returned verdict {info.verdict_id}, not {verdict_id}")
    if set(info.digests) != set(files):
        raise PathMismatch(
            f"verdict {verdict_id} covers the path(s) {', '.join(sorted(info.digests)) or '(none)'}"
            f" but this run read {', '.join(sorted(files)) or '(none)'}; run from the "
            "repository root `sqlgate check` ran in, with the same files"
        )
    try:
        check_files(info.digests, files)
    except TrustError as exc:
        raise DigestMismatchError(f"verdict {verdict_id}: {exc}") from exc
    return info
