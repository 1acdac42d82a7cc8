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


def test_a_broken_test_module_loads_for_serving_but_is_never_bundled(tmp_path: Path) -> None:
    # Test modules are compiled only where they are used (`policy test`, a bundle that
    # carries them), not at every load: serving and --local ignore them.
    import shutil

    from sqlgate.policy.bundle import load_policy_set

    tree = tmp_path / "policies"
    shutil.copytree(POLICIES, tree)
    broken = sorted(tree.rglob("*_test.rego"))[0]
    broken.write_text(broken.read_text() + "\nthis is not rego {\n")
    assert load_policy_set(tree).digest == load_policy_set(POLICIES).digest
    assert main(["policy", "build", str(tree), "-o", str(tmp_path / "plain.tar.gz")]) == 0
    out = tmp_path / "with-tests.tar.gz"
    assert main(["policy", "build", str(tree), "--with-tests", "-o", str(out)]) == 6
    assert not out.exists()
    assert main(["policy", "test", str(tree)]) != 0
