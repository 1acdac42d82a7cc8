"""`sqlgate check --local` shows its stages on a terminal and nothing anywhere else.

stderr is a real pseudo-terminal (``pty``) in the first case, a pipe in the others; the
result on stdout is the same in all of them.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CMD = [sys.executable, "-m", "sqlgate.cli.main", "check", "--local"]


def _migrations(tmp_path: Path) -> Path:
    for i in range(1, 4):
        (tmp_path / f"V{i}__t{i}.sql").write_text(
            f"CREATE TABLE t{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n"
        )
    return tmp_path


def _on_tty(args: list[str]) -> tuple[int, str, str]:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [*CMD, *args], stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
    return proc.returncode, proc.stdout.decode(), b"".join(chunks).decode()


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    code, out, err = _on_tty([str(_migrations(tmp_path))])
    assert code == 0, err
    assert "parsing 3 file(s)" in err
    assert "parsed 3 file(s): 3 statement(s)" in err
    assert "evaluating 3 statement(s)" in err
    assert err.rstrip(" \r").endswith("\r") or err.endswith("\r")  # the line is cleared
    assert "evaluating" not in out and "allow" in out


def test_no_progress_for_json_on_a_terminal(tmp_path: Path) -> None:
    code, out, err = _on_tty(["--format", "json", str(_migrations(tmp_path))])
    assert code == 0 and err == ""
    assert out.startswith("{")


def test_no_progress_when_not_a_terminal(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CMD, str(_migrations(tmp_path))], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0 and proc.stderr == ""
    assert "allow" in proc.stdout
