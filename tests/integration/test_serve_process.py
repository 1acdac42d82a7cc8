"""`sqlgate serve` as a real subprocess: health, a check through it, clean SIGTERM stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from serving import SQLGATE, free_port, wait_serving
from sqlgate.cli.dev_config import write_dev_config

ROOT = Path(__file__).resolve().parent.parent.parent


def test_serve_subprocess_check_and_sigterm(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    config, tokens = write_dev_config(tmp_path / "dev")
    proc = subprocess.Popen(
        [*SQLGATE, "serve", "--config", str(config), "--listen", address],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_serving(address, proc, budget_s=60)
        check = subprocess.run(
            [
                *SQLGATE,
                "check",
                "--server",
                address,
                "--env",
                "production",
                "--target",
                "main-db",  # dev-config declares production: [main-db]
                "--format",
                "json",
                "examples/migrations",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "SQLGATE_TOKEN": tokens["alice"]},
        )
        assert check.returncode == 3, check.stderr
        result = json.loads(check.stdout)
        assert result["decision"] == "needs_approval"
        assert "column-type-change" in {f["rule"] for f in result["findings"]}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert "listening on" in log and "stopped" in log


def test_serve_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "sqlgate.yaml"
    config.write_text("listen: 127.0.0.1:0\nlimtis: {}\n")
    proc = subprocess.run(
        [*SQLGATE, "serve", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 6  # local setup, never read as a deny
    assert "unknown key(s): limtis" in proc.stderr
