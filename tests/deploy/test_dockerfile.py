"""deploy/Dockerfile's instructions checked against what they name (no image builder
here): every COPY source exists and the wheel build gets what setup.py needs (the
policy tree included), the ENTRYPOINT is a console script of the package and its CMD
parses, the user is the manifests' non-root one, the exposed ports and key directory
are the configs', and the HEALTHCHECK command really answers 0 against a server.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from deploy_common import DEPLOY, ROOT, load_yaml_docs, port_of
from serving import serving
from sqlgate.cli.main import build_parser
from sqlgate.config import ServerConfig
from sqlgate.trust.keys import Keyset


def _instructions() -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        pending += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            op, _, rest = pending.strip().partition(" ")
            lines.append((op.upper(), rest.strip()))
            pending = ""
    return lines


def _json(rest: str) -> list[str]:
    return list(json.loads(rest))


def test_copy_sources_exist_and_the_build_has_setup_and_policies() -> None:
    ins = _instructions()
    copied: list[str] = []
    for op, rest in ins:
        if op == "COPY":
            *sources, _ = shlex.split(rest)
            for s in sources:
                assert (ROOT / s).exists(), f"COPY {s}: not in the repository"
            copied += sources
    assert {"pyproject.toml", "setup.py", "MANIFEST.in", "server", "clients", "policies"} <= set(
        copied
    )
    runs = [rest for op, rest in ins if op == "RUN"]
    assert any("pip install ." in r for r in runs)
    # No run-time dependency on the source tree: the policies ship inside the wheel.
    envs = " ".join(rest for op, rest in ins if op == "ENV")
    assert "SQLGATE_POLICIES" not in envs


def test_entrypoint_cmd_user_ports_and_keys_match_the_manifests() -> None:
    ins = dict(_instructions())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entry = _json(ins["ENTRYPOINT"])
    assert entry == ["sqlgate"] and "sqlgate" in scripts
    cmd = _json(ins["CMD"])
    args = build_parser().parse_args(cmd)  # the default command line parses
    config_path = str(args.config)

    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["sqlgate"]
    assert compose["command"] == cmd
    assert any(v.split(":")[1] == config_path for v in compose["volumes"])
    deployment = next(
        d for d in load_yaml_docs(DEPLOY / "k8s" / "deployment.yaml") if d["kind"] == "Deployment"
    )
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == cmd
    mounts = {vm["mountPath"] for vm in container["volumeMounts"]}
    assert str(Path(config_path).parent) in mounts

    uid = ins["USER"].split(":")[0]
    assert uid.isdigit() and int(uid) != 0 and int(uid) == pod["securityContext"]["runAsUser"]

    keys_dir = ins["ENV"].split("SQLGATE_KEYS_DIR=")[1].split()[0]
    assert compose["environment"]["SQLGATE_KEYS_DIR"] == keys_dir
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SQLGATE_KEYS_DIR"] == keys_dir

    exposed = {int(p) for p in ins["EXPOSE"].split()}
    cm = next(d for d in load_yaml_docs(DEPLOY / "k8s" / "configmap.yaml"))
    k8s_config = yaml.safe_load(cm["data"]["config.yaml"])
    compose_config = yaml.safe_load((DEPLOY / "compose" / "sqlgate.yaml").read_text())
    for cfg in (k8s_config, compose_config):
        assert {port_of(cfg["listen"]), port_of(cfg["metrics_listen"])} == exposed


def test_healthcheck_command_answers_against_a_server(tmp_path: Path) -> None:
    ins = dict(_instructions())
    check = _json(ins["HEALTHCHECK"].split(" CMD ", 1)[1])
    assert check[0] == "python" and check[1] == "-c"
    Keyset.generate(tmp_path / "keys")
    config = ServerConfig(
        listen="127.0.0.1:0", store=f"sqlite:///{tmp_path / 's.db'}", keys=tmp_path / "keys"
    )
    with serving(config) as running:
        code = check[2].replace("127.0.0.1:50051", f"127.0.0.1:{running.port}")
        ok = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=30, check=False
        )
        assert ok.returncode == 0, ok.stderr
    down = subprocess.run(
        [sys.executable, "-c", check[2].replace("50051", "1")], timeout=30, check=False
    )
    assert down.returncode != 0


def test_shipped_configs_load() -> None:
    from sqlgate.config import config_from_mapping, load_config

    load_config(DEPLOY / "config.example.yaml")
    load_config(DEPLOY / "compose" / "sqlgate.yaml")
    cm = next(d for d in load_yaml_docs(DEPLOY / "k8s" / "configmap.yaml"))
    config_from_mapping(yaml.safe_load(cm["data"]["config.yaml"]))
