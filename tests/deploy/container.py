"""Run a container spec from deploy/ as a local process: no container engine here.

A ``Rootfs`` maps each container mount point to a directory under the test's tmp dir;
command lines, environment values and mounted config files are rewritten by that map
(longest mount point first) plus a host map (service names and 0.0.0.0 ports to
127.0.0.1 and free ports). Nothing else is changed: the argv, env and file contents
are the manifests' own. The image's ENTRYPOINT ``sqlgate`` is this checkout's console
script; ``opa`` is ../shared/tools/opa.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
SQLGATE = str(BIN / "sqlgate")


@dataclass
class Rootfs:
    base: Path
    mounts: dict[str, Path] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)

    def mount(self, container_path: str, local: Path | None = None) -> Path:
        local = local or self.base / container_path.strip("/").replace("/", "_")
        local.mkdir(parents=True, exist_ok=True)
        self.mounts[container_path.rstrip("/")] = local
        return local

    def rewrite(self, text: str) -> str:
        """One pass, longest match first, mount points only as whole path prefixes (so a
        replacement is never rewritten again, and /etc/sqlgate never hits /etc/sqlgate-keys)."""
        table = {**self.hosts, **{k: str(v) for k, v in self.mounts.items()}}
        if not table:
            return text
        keys = sorted(table, key=len, reverse=True)
        pattern = "|".join(f"{re.escape(k)}(?![\\w.-])" for k in keys)
        return re.sub(pattern, lambda m: table[m.group(0)], text)

    def install(self, container_file: str, content: str) -> Path:
        """Place a mounted file (e.g. a ConfigMap key) at its mapped path, rewritten."""
        directory, _, name = container_file.rpartition("/")
        local = self.mounts.get(directory) or self.mount(directory)
        path = local / name
        path.write_text(self.rewrite(content))
        return path


def argv(entrypoint: list[str], command: list[str], rootfs: Rootfs) -> list[str]:
    """The local argv for ``entrypoint + command`` (``sqlgate``/``opa``/``sh`` resolved)."""
    full = [rootfs.rewrite(a) for a in [*entrypoint, *command]]
    head = full[0]
    if head == "sqlgate":
        return [SQLGATE, *full[1:]]
    if head == "opa":
        from opa_tools import opa_bin

        return [str(opa_bin()), *full[1:]]
    if head == "sh":
        return ["/bin/sh", *full[1:]]
    raise AssertionError(f"unknown entrypoint {head!r}")


def environment(env: dict[str, str], rootfs: Rootfs) -> dict[str, str]:
    """A clean environment (no SQLGATE_* of the test run) plus the container's, rewritten."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    base["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '/usr/bin:/bin')}"
    return {**base, **{k: rootfs.rewrite(v) for k, v in env.items()}}


def run_once(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )


def start(cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[Any]:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def which(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} not on PATH"
    return found
