"""The pre-commit hook as users meet it: ``pre-commit try-repo`` on a fresh clone of this
repository, from another git repository holding migrations. pre-commit builds its own
environment from the clone (so the policies must ship in the package); the hook must
fail on a migration the policy denies and pass on a clean one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
DENY = "CREATE INDEX idx_customers_email ON customers (email);\n"
ALLOW = "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def test_try_repo_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "sqlgate"
    _git("clone", "--quiet", "--no-local", str(ROOT), str(clone), cwd=tmp_path)
    project = tmp_path / "app"
    (project / "migrations").mkdir(parents=True)
    _git("init", "--quiet", cwd=project)
    (project / "migrations" / "V1__notes.sql").write_text(ALLOW)
    (project / "migrations" / "V2__index.sql").write_text(DENY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQLGATE_", "VIRTUAL_ENV"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
    )

    def try_repo(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "try-repo", str(clone), "sqlgate-check", "--files", *files],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    ok = try_repo("migrations/V1__notes.sql")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "sqlgate check" in ok.stdout and "Passed" in ok.stdout
    bad = try_repo("migrations/V1__notes.sql", "migrations/V2__index.sql")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "index-not-concurrent" in bad.stdout
    assert "policy directory not found" not in bad.stdout
