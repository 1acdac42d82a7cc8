"""The CI integrations: the GitHub workflow, the composite action, the GitLab example and
the compose file validate against their published schemas (check-jsonschema's vendored
copies, offline), and the action's check step — its own bash, unchanged — runs here
against --local and a real server, writing the outputs a workflow reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from serving import address_of, principals_config, serving
from sqlgate.config import EnvironmentRules
from sqlgate.rpc.server import RunningServer

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
SCHEMAS = [
    ("vendor.github-workflows", "deploy/github-actions/sqlgate.yml"),
    ("vendor.github-actions", "action.yml"),
    ("vendor.gitlab-ci", "deploy/gitlab-ci/.gitlab-ci.yml"),
    ("vendor.compose-spec", "deploy/compose.yaml"),
]
ALLOW = "CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text);\n"
APPROVAL = "DROP TABLE customers;\n"
DENY = "CREATE INDEX idx_customers_email ON customers (email);\n"


@pytest.mark.parametrize(("schema", "path"), SCHEMAS)
def test_files_match_their_schemas(schema: str, path: str) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(ROOT / path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    doc = yaml.safe_load((ROOT / "deploy/github-actions/sqlgate.yml").read_text())
    doc["jobs"]["check"]["runs-on"] = {"not": "a runner"}
    doc["jobs"]["check"]["steps"][0] = {"uses": 3}
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(doc))
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0


def test_workflow_uses_the_server_flow() -> None:
    wf = yaml.safe_load((ROOT / "deploy/github-actions/sqlgate.yml").read_text())
    jobs = wf["jobs"]
    check_step = next(s for s in jobs["check"]["steps"] if s.get("id") == "sqlgate")
    assert "server" in check_step["with"]
    assert jobs["check"]["outputs"]["verdict-id"] == "${{ steps.sqlgate.outputs.verdict-id }}"
    assert any("gh pr comment" in s.get("run", "") for s in jobs["check"]["steps"])
    assert any("sqlgate approve" in s.get("run", "") for s in jobs["approve"]["steps"])
    deploy = " ".join(s.get("run", "") for s in jobs["deploy"]["steps"])
    assert "sqlgate-runner apply" in deploy and "--runner-id" in deploy
    lint = next(s for s in jobs["lint"]["steps"] if "uses" in s and "sqlgate" in s["uses"])
    assert "server" not in lint["with"]  # --local: advisory only


def _action_step() -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    return str(step["run"])


def _run_action(tmp: Path, paths: str, **inputs: str) -> tuple[int, dict[str, str], str]:
    out, summary = tmp / "output", tmp / "summary"
    for f in (out, summary):
        f.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQLGATE_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env['PATH']}",
        RUNNER_TEMP=str(tmp),
        GITHUB_OUTPUT=str(out),
        GITHUB_STEP_SUMMARY=str(summary),
        INPUT_PATHS=paths,
        INPUT_ENV=inputs.get("environment", ""),
        INPUT_TARGET=inputs.get("target", "default"),
        INPUT_SERVER=inputs.get("server", ""),
        INPUT_DIALECT="postgres",
        FAIL_ON_3=inputs.get("fail_on_3", "false"),
        SQLGATE_TOKEN=inputs.get("token", ""),
    )
    done = subprocess.run(
        ["bash", "-e", "-c", _action_step()],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return done.returncode, outputs, done.stdout + done.stderr + summary.read_text()


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    for name, body in (("allow", ALLOW), ("approval", APPROVAL), ("deny", DENY)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "V1__x.sql").write_text(body)
    return tmp_path


def test_action_local_is_advisory(migrations: Path) -> None:
    code, outputs, _ = _run_action(migrations, "approval")
    assert code == 0 and outputs["decision"] == "needs_approval" and outputs["exit-code"] == "3"
    assert outputs["verdict-id"] == ""
    assert Path(outputs["comment-file"]).read_text().strip()
    code, outputs, _ = _run_action(migrations, "approval", fail_on_3="true")
    assert code == 3
    code, outputs, log = _run_action(migrations, "deny")
    assert code == 1 and outputs["decision"] == "deny"
    assert "index-not-concurrent" in log
    code, outputs, log = _run_action(migrations, "missing")
    assert code == 2 and "could not check" in log and "decision" not in outputs


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, str]]:
    tmp = tmp_path_factory.mktemp("action")
    config, tokens = principals_config(
        tmp, f"sqlite:///{tmp / 's.db'}", {"ci": {"author": ("*",)}}, {"*": EnvironmentRules()}
    )
    with serving(config) as running:
        yield running, tokens["ci"]


def test_action_server_mode_outputs_the_verdict(
    migrations: Path, server: tuple[RunningServer, str]
) -> None:
    running, token = server
    code, outputs, log = _run_action(
        migrations, "allow", server=address_of(running), environment="production", token=token
    )
    assert code == 0, log
    assert outputs["decision"] == "allow" and outputs["verdict-id"].startswith("vrd_")
    code, outputs, log = _run_action(
        migrations, "allow", server=address_of(running), environment="production", token="bad"
    )
    assert code == 4 and "could not check" in log
