"""`sqlgate policy build`: an OPA bundle whose revision is the policy digest, with the data
where the policies read it, byte-identical on every build of the same tree."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

from sqlgate.cli.main import main
from sqlgate.policy.bundle import PolicySet
from sqlgate.policy.opa_bundle import DATA_JSON, MANIFEST, bundle_files, read_tarball

from .conftest import POLICIES


def test_build_writes_a_reproducible_bundle(
    policy_set: PolicySet, tmp_path: Path, capsys: object
) -> None:
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    assert main(["policy", "build", str(POLICIES), "-o", str(first)]) == 0
    time.sleep(1.1)  # a timestamp anywhere in the archive would now differ
    assert main(["policy", "build", str(POLICIES), "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    files = dict(read_tarball(first.read_bytes(), source="a"))
    manifest = json.loads(files[MANIFEST])
    assert manifest == {"revision": policy_set.digest, "roots": ["sqlgate"]}
    assert json.loads(files[DATA_JSON]) == policy_set.data["sqlgate"]["config"]
    assert {m.path for m in policy_set.modules} <= set(files)
    assert not [name for name in files if name.endswith("_test.rego")]
    with tarfile.open(first) as tar:
        assert all(m.name.startswith("/") and m.isfile() for m in tar.getmembers())


def test_with_tests_adds_only_the_tests(policy_set: PolicySet) -> None:
    plain = dict(bundle_files(policy_set))
    full = dict(bundle_files(policy_set, with_tests=True))
    assert set(full) - set(plain) == {t.path for t in policy_set.tests}
    assert json.loads(full[MANIFEST])["revision"] == policy_set.digest
