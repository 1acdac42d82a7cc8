"""Install the way users do: build the wheels, install them into fresh venvs outside the
checkout, and run the console scripts from there.

``sqlgate`` must find its shipped policy tree (no checkout, no SQLGATE_POLICIES) and
review a migration with real findings; ``sqlgate-client`` must install and run the
runner without the server's dependencies. Wheels are built from a copy of the sources
(so the checkout gets no build/ or egg-info) with ``--no-build-isolation``; installs
reuse pip's cache and the machine's find-links.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "server",
    "clients",
    "policies",
)
INDEX = "CREATE INDEX idx_customers_email ON customers (email);\n"
CREATE = "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600):
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _clean_env() -> dict[str, str]:
    """The user's environment: none of the checkout's settings leak into the install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQLGATE_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    return env


def _build(src: Path, out: Path) -> Path:
    res = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            ".",
        ],
        cwd=src,
    )
    assert res.returncode == 0, res.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def _venv(where: Path, wheel: Path) -> Path:
    venv.create(where, with_pip=True)
    py = where / "bin" / "python"
    res = _run([str(py), "-m", "pip", "install", "-q", str(wheel)], cwd=where, env=_clean_env())
    assert res.returncode == 0, res.stderr
    return where / "bin"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("wheels")
    src = base / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "_policies")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    yield {
        "server": _build(src, base / "server-dist"),
        "client": _build(src / "clients", base / "client-dist"),
    }


def test_server_wheel_ships_policies_and_reviews_outside_the_checkout(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    bindir = _venv(tmp_path / "venv", wheels["server"])
    work = tmp_path / "project"
    (work / "migrations").mkdir(parents=True)
    (work / "migrations" / "V1__notes.sql").write_text(CREATE)
    env = _clean_env()

    ok = _run([str(bindir / "sqlgate"), "check", "--local", "migrations/"], cwd=work, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "allow" in ok.stdout

    (work / "migrations" / "V2__index.sql").write_text(INDEX)
    bad = _run(
        [str(bindir / "sqlgate"), "check", "--local", "--format", "json", "migrations/"],
        cwd=work,
        env=env,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert '"index-not-concurrent"' in bad.stdout

    # The shipped tree is the packaged copy, not a path back into this checkout.
    where = _run(
        [
            str(bindir / "python"),
            "-c",
            "from sqlgate.config import default_policies_dir as d; print(d())",
        ],
        cwd=work,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    shipped = Path(where.stdout.strip())
    assert shipped.is_relative_to(tmp_path / "venv"), shipped
    assert (shipped / "main.rego").is_file()
    assert sorted(p.name for p in (shipped / "data").iterdir()) == sorted(
        p.name for p in (ROOT / "policies" / "data").iterdir()
    )

    # An explicit --policies still wins (an empty tree is refused, not reviewed).
    empty = work / "no-policies"
    empty.mkdir()
    res = _run(
        [str(bindir / "sqlgate"), "check", "--local", "--policies", str(empty), "migrations/"],
        cwd=work,
        env=env,
    )
    assert res.returncode not in (0, 1, 3), res.stdout + res.stderr

    help_ = _run([str(bindir / "sqlgate-runner"), "--help"], cwd=work, env=env)
    assert help_.returncode == 0, help_.stderr
    assert "apply" in help_.stdout


def test_client_wheel_installs_alone_without_server_dependencies(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    bindir = _venv(tmp_path / "venv", wheels["client"])
    env = _clean_env()
    help_ = _run([str(bindir / "sqlgate-runner"), "--help"], cwd=tmp_path, env=env)
    assert help_.returncode == 0, help_.stderr
    assert "apply" in help_.stdout
    for absent in ("sqlgate", "sqlglot", "pglast", "regorus"):
        probe = _run(
            [
                str(bindir / "python"),
                "-c",
                f"import importlib.util as u, sys; sys.exit(u.find_spec({absent!r}) is not None)",
            ],
            cwd=tmp_path,
            env=env,
        )
        assert probe.returncode == 0, f"{absent} is installed with the client"
    assert not (bindir / "sqlgate").exists()
