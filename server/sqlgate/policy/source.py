"""Where the policy set comes from: the ``policies.dir`` tree, or a bundle file or URL.

A bundle (``sqlgate policy build``) is loaded into exactly the `PolicySet` it was built
from: its revision must equal the digest recomputed from its files, and with a
verification key its ``.signatures.json`` must verify (bundle_sign) before anything is
compiled. A bundle URL is fetched over HTTP(S) with ``If-None-Match``, as OPA's bundle
service does: ``304 Not Modified`` means the loaded revision stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlgate.errors import PolicyLoadError
from sqlgate.policy.bundle import PolicySet, load_policy_set, policy_set_from_files
from sqlgate.policy.opa_bundle import manifest_of, read_tarball

FETCH_TIMEOUT_S = 30.0


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def load_bundle(raw: bytes, *, source: str, verification_key: bytes | None) -> PolicySet:
    """The PolicySet of a bundle archive; PolicyLoadError for anything not as built."""
    files = read_tarball(raw, source=source)
    if verification_key is not None:
        # Imported only for signed bundles: a policy tree never loads the crypto stack.
        from sqlgate.policy.bundle_sign import verify_files

        verify_files(files, verification_key, source=source)
    revision = manifest_of(files, source=source)["revision"]
    policy_set = policy_set_from_files(files, root=Path(source))
    if revision != policy_set.digest:
        raise PolicyLoadError(
            f"{source}: bundle revision {revision} is not the digest of its content "
            f"({policy_set.digest})"
        )
    return policy_set


@dataclass
class Fetched:
    """One answer of a bundle URL: the bundle (None when not modified) and its ETag."""

    raw: bytes | None
    etag: str | None


def fetch_bundle(url: str, *, etag: str | None, ca: Path | None = None) -> Fetched:
    """GET the bundle URL (conditional on `etag`); PolicyLoadError on any failure."""
    import requests  # only bundle URLs need HTTP

    headers = {"If-None-Match": etag} if etag else {}
    try:
        response = requests.get(
            url,
            headers=headers,
            timeout=FETCH_TIMEOUT_S,
            verify=str(ca) if ca is not None else True,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise PolicyLoadError(f"{url}: cannot fetch bundle: {exc}") from exc
    if response.status_code == 304:
        return Fetched(None, etag)
    if response.status_code != 200:
        raise PolicyLoadError(f"{url}: bundle fetch answered HTTP {response.status_code}")
    return Fetched(response.content, response.headers.get("ETag"))


@dataclass
class PolicySource:
    """The configured source; `load` returns the current set, or None when a bundle URL
    answered 304 (unchanged since the last load)."""

    dir: Path
    bundle: str | None = None
    verification_key: Path | None = None
    ca: Path | None = None
    etag: str | None = None

    def _key(self) -> bytes | None:
        if self.verification_key is None:
            return None
        try:
            return self.verification_key.read_bytes()
        except OSError as exc:
            raise PolicyLoadError(
                f"{self.verification_key}: cannot read verification key: {exc.strerror}"
            ) from exc

    def describe(self) -> str:
        return self.bundle if self.bundle is not None else str(self.dir)

    def load(self, *, conditional: bool = False) -> PolicySet | None:
        if self.bundle is None:
            return load_policy_set(self.dir)
        key = self._key()
        if is_url(self.bundle):
            fetched = fetch_bundle(self.bundle, etag=self.etag if conditional else None, ca=self.ca)
            if fetched.raw is None:
                return None
            policy_set = load_bundle(fetched.raw, source=self.bundle, verification_key=key)
            self.etag = fetched.etag
            return policy_set
        try:
            raw = Path(self.bundle).read_bytes()
        except OSError as exc:
            raise PolicyLoadError(f"{self.bundle}: cannot read bundle: {exc.strerror}") from exc
        return load_bundle(raw, source=self.bundle, verification_key=key)

    def load_now(self) -> PolicySet:
        """An unconditional load (start-up): never None."""
        policy_set = self.load()
        assert policy_set is not None  # unconditional loads always return a set
        return policy_set
