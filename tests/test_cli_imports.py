"""A command imports only what it uses: `check --local` never loads the server's stack.

Start-up is most of a one-file check (issue 12): gRPC, psycopg, the crypto stack,
``sqlgate.rpc``/``store``/``trust``, the policy worker pool and the other subcommands'
modules cost ~0.5 s and `--local` needs none of them. Each run here is a fresh
interpreter whose ``sys.modules`` is inspected after the command, so an import added at
the top of a shared module shows up as a failure, not as a slow creep.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlgate.cli import main as cli_main
from sqlgate.config import config_from_mapping
from sqlgate.policy.embedded import EmbeddedEngine
from sqlgate.policy.factory import load_engine

POLICIES = Path(__file__).resolve().parents[1] / "policies"

# Top-level packages / module prefixes `check --local` must never load.
FORBIDDEN = (
    "grpc",
    "psycopg",
    "cryptography",
    "pyseto",
    "requests",
    "sqlgate.rpc",
    "sqlgate.store",
    "sqlgate.trust",
    "sqlgate.auth",
    "sqlgate.audit",
    "sqlgate.policy.isolated",
    "sqlgate.policy.remote",
    "sqlgate_client.gen.sqlgate.v1.review_pb2_grpc",
)

WRAPPER = """
import json, sys
from sqlgate.cli.main import main
if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    sys.stdout.flush()
    sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
    sys.exit(code)
"""


def _run(tmp_path: Path, *argv: str) -> tuple[int, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    marker = proc.stderr.rsplit("MODULES ", 1)
    assert len(marker) == 2, proc.stderr
    return proc.returncode, proc.stdout, json.loads(marker[1])


def _loaded(modules: list[str], prefix: str) -> list[str]:
    return [m for m in modules if m == prefix or m.startswith(prefix + ".")]


def _assert_light(modules: list[str]) -> None:
    leaked = {p: _loaded(modules, p)[:3] for p in FORBIDDEN if _loaded(modules, p)}
    assert not leaked, f"check --local imported {leaked}"
    other_commands = [
        m
        for m in modules
        if m.startswith("sqlgate.cli.") and m not in ("sqlgate.cli.main", "sqlgate.cli.check")
    ]
    assert not other_commands, other_commands


@pytest.mark.parametrize(
    ("sql", "expected", "decision"),
    [
        ("CREATE TABLE t (id bigint PRIMARY KEY);\n", 0, "allow"),
        ("CREATE INDEX i ON accounts (x);\n", 1, "deny"),
        ("ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(20,2);\n", 3, "needs_approval"),
    ],
)
def test_check_local_loads_no_server_stack(
    tmp_path: Path, sql: str, expected: int, decision: str
) -> None:
    migration = tmp_path / "V1__one.sql"
    migration.write_text(sql)
    code, out, modules = _run(
        tmp_path,
        "check",
        "--local",
        "--policies",
        str(POLICIES),
        "--format",
        "json",
        str(migration),
    )
    assert code == expected, out
    assert json.loads(out)["decision"] == decision
    _assert_light(modules)
    # It did review: the parser and the in-process engine ran.
    assert "sqlgate.policy.embedded" in modules
    assert "regorus" in modules


def test_check_local_directory_and_text_output_stay_light(tmp_path: Path) -> None:
    for i in range(1, 4):
        (tmp_path / f"V{i}__m.sql").write_text(f"CREATE TABLE t{i} (id bigint PRIMARY KEY);\n")
    code, out, modules = _run(tmp_path, "check", "--local", "--policies", str(POLICIES), ".")
    assert code == 0, out
    assert "allowed" in out
    _assert_light(modules)


def test_local_input_error_stays_light(tmp_path: Path) -> None:
    # The failure path (exit-code mapping) must not pull gRPC in either.
    code, _, modules = _run(tmp_path, "check", "--local", str(tmp_path / "missing.sql"))
    assert code == 2
    _assert_light(modules)


def test_top_level_help_lists_every_command_without_importing_them(tmp_path: Path) -> None:
    code, out, modules = _run(tmp_path, "--help")
    assert code == 0
    for name, (_, help_text) in cli_main.SUBCOMMANDS.items():
        assert name in out
        assert help_text.split()[0] in out
    assert not [m for m in modules if m.startswith("sqlgate.cli.") and m != "sqlgate.cli.main"]
    assert not _loaded(modules, "grpc")


def test_remote_check_still_loads_grpc(tmp_path: Path) -> None:
    # The other side of the rule: talking to a server does load the client stack (and
    # fails as unavailable, 5, against a port nothing listens on).
    migration = tmp_path / "V1__one.sql"
    migration.write_text("SELECT 1;\n")
    code, _, modules = _run(
        tmp_path,
        "check",
        "--server",
        "127.0.0.1:9",
        "--env",
        "dev",
        "--timeout",
        "2",
        str(migration),
    )
    assert code == 5
    assert _loaded(modules, "grpc")


@pytest.mark.parametrize("name", list(cli_main.SUBCOMMANDS))
def test_lazy_subcommand_matches_its_module(name: str) -> None:
    """The listed help line is the module's own, and the command parses to its handler."""
    module_name, help_text = cli_main.SUBCOMMANDS[name]
    probe = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"sqlgate.cli.{module_name}").register(probe)
    assert name in probe.choices
    assert [a.help for a in probe._choices_actions if a.dest == name] == [help_text]
    parser = cli_main.build_parser()
    with pytest.raises(SystemExit) as exc:
        parser.parse_args([name, "--help"])
    assert exc.value.code == 0


def test_check_parses_to_its_handler_through_the_lazy_parser(tmp_path: Path) -> None:
    args = cli_main.build_parser().parse_args(["check", "--local", "x.sql"])
    from sqlgate.cli import check

    assert args.func is check.run
    assert args.local and args.paths == ["x.sql"]
    with pytest.raises(SystemExit) as exc:
        cli_main.build_parser().parse_args(["no-such-command"])
    assert exc.value.code == 2


def test_in_process_engine_ignores_process_isolation() -> None:
    config = config_from_mapping({"policies": {"dir": str(POLICIES), "isolation": "process"}})
    engine = load_engine(config, in_process=True)
    assert isinstance(engine, EmbeddedEngine)
