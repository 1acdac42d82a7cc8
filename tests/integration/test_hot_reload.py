"""`sqlgate serve` reloads its policies on SIGHUP, without a restart (a real process).

The policy copy is edited (column-type-change raised from approval to deny) and the
server is sent SIGHUP: the same check that needed approval is now denied, by the same
process. Then a broken policy is written and SIGHUP sent again: the reload is rejected
(logged, audited) and the previous policy keeps answering.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from serving import SQLGATE, free_port, wait_serving
from sqlgate.cli.dev_config import write_dev_config

ROOT = Path(__file__).resolve().parent.parent.parent


def _check(address: str, token: str) -> int:
    return subprocess.run(
        [
            *SQLGATE,
            "check",
            "--server",
            address,
            "--env",
            "production",
            "--target",
            "main-db",  # dev-config declares production: [main-db]
            "examples/migrations",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "SQLGATE_TOKEN": token},
    ).returncode


def _until(address: str, token: str, code: int, budget_s: float = 60) -> int:
    deadline = time.monotonic() + budget_s
    while True:
        got = _check(address, token)
        if got == code or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_sighup_reloads_and_a_broken_policy_is_rejected(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    levels = policies / "data" / "levels.yaml"
    address = f"127.0.0.1:{free_port()}"
    config, tokens = write_dev_config(tmp_path / "dev")
    proc = subprocess.Popen(
        [
            *SQLGATE,
            "serve",
            "--config",
            str(config),
            "--listen",
            address,
            "--policies",
            str(policies),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_serving(address, proc, budget_s=60)
        assert _check(address, tokens["alice"]) == 3  # needs approval
        text = levels.read_text()
        assert "column-type-change: approval" in text
        levels.write_text(text.replace("column-type-change: approval", "column-type-change: deny"))
        proc.send_signal(signal.SIGHUP)
        assert _until(address, tokens["alice"], 1) == 1  # denied by the reloaded policy
        (policies / "main.rego").write_text("package sqlgate.main\nthis is not rego\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(3)
        assert _check(address, tokens["alice"]) == 1  # the last good policy still answers
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert "policy reload (sighup): now serving" in log
    assert "policy reload (sighup) rejected" in log
