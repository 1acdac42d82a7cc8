"""Every command line in the README's ``sh`` blocks is run, so the examples cannot rot.

Lines run in README order in one working directory, against a real server (and the real
PostgreSQL for the DSN), with each placeholder replaced by a real value of its kind:
ADDR a running server, VERDICT_ID an allowed verdict, DSN a fresh database, KEYDIR a key
directory, KEY_ID a retired key of it, db/migrations/ example migrations, and so on.
``a|b`` in a command position runs each alternative, in an option value the first;
``[...]`` options are included. A line passes when its exit code is one its command
documents for the situation (never 2, usage). The few lines not run say why in SKIP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import address_of, free_port, principals_config, serving
from sqlgate.config import EnvironmentRules
from sqlgate_client.check import MigrationInput, check_remote

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RUNNER_ID = "deploy-runner"
ALLOW = b"CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"
# What the README's pull request adds after origin/main (V12 is past `--since 11`).
PULL_REQUEST = {
    "V2__notes_title.sql": b"ALTER TABLE notes ADD COLUMN title text;\n",
    "V12__notes_tag.sql": b"ALTER TABLE notes ADD COLUMN tag text;\n",
}
# Not run, and why (matched as a prefix of the line after substitution of nothing).
SKIP = {
    "bash scripts/test.sh": "runs this very suite; only its syntax is checked (bash -n)",
    "pip install": "tests/packaging builds and installs both distributions",
    "sqlgate audit verify ...": "the '...' stands for the options of the line above",
}


def readme_commands() -> list[str]:
    """Each command line of the README's sh blocks: continuations joined, comments off."""
    text = (ROOT / "README.md").read_text()
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        pending = ""
        for raw in block.splitlines():
            line = re.sub(r"\s+#.*$", "", raw) if not raw.lstrip().startswith("#") else ""
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line = (pending + line).strip()
            pending = ""
            if line:
                lines.append(" ".join(line.split()))
    return lines


def expand(line: str) -> list[str]:
    """Optional groups included; ``a|b`` alternatives: every one as a command word (the
    subcommand), the first as an option value."""
    line = re.sub(r"\[([^\]]*)\]", r"\1", line)
    words = line.split(" ")
    for i, word in enumerate(words):
        if "|" in word and not word.startswith(("'", '"')):
            choices = word.split("|")
            if i > 0 and words[i - 1].startswith("--"):
                words[i] = choices[0]
                continue
            return [
                alt
                for choice in choices
                for alt in expand(" ".join([*words[:i], choice, *words[i + 1 :]]))
            ]
    return [" ".join(words)]


def test_the_harness_reads_every_block() -> None:
    commands = readme_commands()
    assert commands[:2] == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert any(c.startswith("sqlgate-runner apply") and "--runner-id" in c for c in commands)
    assert expand("sqlgate keys generate|list --dir KEYDIR") == [
        "sqlgate keys generate --dir KEYDIR",
        "sqlgate keys list --dir KEYDIR",
    ]
    assert expand("x --format text|json [--y]") == ["x --format text --y"]


def _git_checkout(work: Path) -> None:
    """Make ``work`` what CI checks out: a repository whose ``origin/main`` is the base."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "readme",
        "GIT_AUTHOR_EMAIL": "readme@example.invalid",
        "GIT_COMMITTER_NAME": "readme",
        "GIT_COMMITTER_EMAIL": "readme@example.invalid",
    }
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "base"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
    ):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    # the pull request adds migrations on top of the base: those are pending
    for name, sql in PULL_REQUEST.items():
        (work / "db" / "migrations" / name).write_bytes(sql)
    for args in (["add", "-A"], ["commit", "-q", "-m", "pull request"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, pg_dsn: str
) -> Iterator[tuple[Path, dict[str, str], dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("readme")
    work = tmp / "work"
    (work / "db" / "migrations").mkdir(parents=True)
    (work / "db" / "migrations" / "V1__notes.sql").write_bytes(ALLOW)
    (work / "V12__add_index.sql").write_text("ALTER TABLE t ADD INDEX idx_a (a);\n")
    _git_checkout(work)
    roles = ("author", "approver", "runner", "auditor", "operator")
    config, tokens = principals_config(
        tmp,
        f"sqlite:///{tmp / 'store.db'}",
        {RUNNER_ID: {r: ("*",) for r in roles}},
        {"*": EnvironmentRules()},
    )
    with serving(config) as running:
        addr = address_of(running)
        token = tokens[RUNNER_ID]
        result = check_remote(
            addr,
            migrations=[
                MigrationInput("db/migrations/V1__notes.sql", ALLOW),
                *(MigrationInput(f"db/migrations/{n}", b) for n, b in PULL_REQUEST.items()),
            ],
            environment="production",
            target="main-db",
            dialect="postgres",
            token=token,
        )
        assert result["decision"] == "allow"
        (work / "check.json").write_text(json.dumps(result))
        (work / "public-keys.json").write_text(running.app.keyset.public_keyset().to_json())
        values = {
            "ADDR": addr,
            "VERDICT_ID": str(result["verdict_id"]),
            "DSN": f"'{pg_dsn}'",
            "KEYDIR": str(tmp / "keydir"),
            "URL": config.store,
            "KEYS": "public-keys.json",
            "127.0.0.1:50051": f"127.0.0.1:{free_port()}",
            "127.0.0.1:9464": f"127.0.0.1:{free_port()}",
            "policies/": f"{ROOT / 'policies'}/",
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
        env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}", SQLGATE_TOKEN=token)
        yield work, values, env
        _ = running  # the server lives as long as the module's tests


def _substitute(line: str, values: dict[str, str], work: Path) -> str:
    if "KEY_ID" in line:
        listed = subprocess.run(
            [str(BIN / "sqlgate"), "keys", "list", "--dir", values["KEYDIR"]],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        retired = [r.split("\t")[0] for r in listed.splitlines() if "\tactive" not in r]
        assert retired, listed
        line = line.replace("KEY_ID", retired[0])
    for key in sorted(values, key=len, reverse=True):
        line = re.sub(rf"(?<![\w/.-]){re.escape(key)}(?![\w])", lambda _m, k=key: values[k], line)
    return line


def _expected(line: str) -> set[int]:
    if line.startswith("sqlgate approve"):
        return {0, 1, 3, 4}  # the README's principal authored the verdict: refused is fine
    if line.startswith("sqlgate check"):
        return {0, 1, 3}
    return {0}


def test_every_readme_command_runs(world: tuple[Path, dict[str, str], dict[str, str]]) -> None:
    work, values, env = world
    ran: list[str] = []
    for original in readme_commands():
        if original.startswith("export "):
            name, _, value = original.removeprefix("export ").partition("=")
            if value == "...":  # "your value": the fixture has set a real one
                assert env.get(name), name
            else:
                env[name] = _substitute(value, values, work)
            continue
        reason = next((why for prefix, why in SKIP.items() if original.startswith(prefix)), None)
        if reason is not None:
            if original == "bash scripts/test.sh":
                syntax = subprocess.run(["bash", "-n", str(ROOT / "scripts/test.sh")], check=False)
                assert syntax.returncode == 0
            continue
        for line in expand(original):
            command = _substitute(line, values, work)
            if command.startswith("bash scripts/"):
                command = command.replace("bash scripts/", f"bash {ROOT}/scripts/", 1)
            timeout = 20 if command.startswith("sqlgate serve") else 300
            try:
                done = subprocess.run(
                    ["bash", "-c", command],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                # serve runs until stopped: it must have come up, not exited.
                assert command.startswith("sqlgate serve"), command
                assert b"listening on" in (exc.stderr or b""), exc.stderr
                ran.append(line)
                continue
            assert not command.startswith("sqlgate serve"), f"serve exited: {done.stderr}"
            assert done.returncode in _expected(command), (
                f"README line failed ({done.returncode}): {original}\n$ {command}\n"
                f"{done.stdout[-1500:]}{done.stderr[-1500:]}"
            )
            ran.append(line)
    assert len(ran) >= 15, ran
