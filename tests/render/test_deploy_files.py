"""deploy/ and .pre-commit-hooks.yaml: they parse, and they agree with the server.

Docker and Kubernetes cannot run here, so these checks read the files: every YAML
parses, the example configs load with the server's own (strict) config loader, and
the Kubernetes probes target the port the config listens on, with the gRPC health
service name the server registers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlgate.config import config_from_mapping, default_policies_dir, load_config
from sqlgate_client.gen.sqlgate.v1 import review_pb2

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
REVIEW_SERVICE = review_pb2.DESCRIPTOR.services_by_name["ReviewService"].full_name


def _docs(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _k8s(kind: str) -> dict[str, Any]:
    docs = [d for f in (DEPLOY / "k8s").glob("*.yaml") for d in _docs(f)]
    found = [d for d in docs if d.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    doc: dict[str, Any] = found[0]
    return doc


def test_there_are_yaml_files() -> None:
    names = {p.relative_to(DEPLOY).as_posix() for p in YAML_FILES}
    assert {
        "compose.yaml",
        "config.example.yaml",
        "github-actions/sqlgate.yml",
        "k8s/deployment.yaml",
        "k8s/service.yaml",
        "k8s/configmap.yaml",
    } <= names


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.relative_to(DEPLOY).as_posix())
def test_every_yaml_file_parses(path: Path) -> None:
    assert _docs(path), f"{path} is empty"


def test_example_config_loads_with_the_server_loader() -> None:
    config = load_config(DEPLOY / "config.example.yaml")
    assert config.listen == "0.0.0.0:50051"
    # no policy dir in the example: the tree shipped in the package is used
    assert config.policies.dir == default_policies_dir()
    assert config.metrics_listen.endswith(":9464")


def test_configmap_config_loads_and_probes_target_its_port() -> None:
    config = config_from_mapping(yaml.safe_load(_k8s("ConfigMap")["data"]["config.yaml"]))
    port = int(config.listen.rsplit(":", 1)[1])

    pod = _k8s("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["grpc"] == port
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["grpc"]["port"] == port, probe
    assert container["readinessProbe"]["grpc"]["service"] == REVIEW_SERVICE
    assert container["resources"]["limits"].keys() >= {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert "/etc/sqlgate/config.yaml" in container["args"]
    assert mounts["config"] == "/etc/sqlgate"

    service = _k8s("Service")
    sports = {p["name"]: p for p in service["spec"]["ports"]}
    assert sports["grpc"]["targetPort"] in ("grpc", port)
    assert sports["metrics"]["targetPort"] in ("metrics", ports.get("metrics"))
    assert service["spec"]["selector"] == _k8s("Deployment")["spec"]["selector"]["matchLabels"]


def test_compose_has_the_services() -> None:
    (compose,) = _docs(DEPLOY / "compose.yaml")
    services = compose["services"]
    # sqlgate + store + OPA sidecar, and the one-shot keys and policy-bundle steps
    assert set(services) == {"sqlgate", "postgres", "opa", "keys", "policy-bundle"}
    assert services["keys"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["sqlgate"]["image"] == services["keys"]["image"]
    for step in ("keys", "opa"):
        assert step in services["sqlgate"]["depends_on"]
    assert "service_healthy" in services["sqlgate"]["depends_on"]["postgres"]["condition"]
    # No literal secrets: the password comes from the environment.
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")


def test_dockerfile_is_slim_non_root_and_serves() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and all(not u.startswith(("root", "0")) for u in users)
    assert lines[-1] == 'CMD ["serve", "--config", "/etc/sqlgate/config.yaml"]'
    assert 'ENTRYPOINT ["sqlgate"]' in lines


def test_github_workflow_uploads_sarif_and_annotates() -> None:
    (workflow,) = _docs(DEPLOY / "github-actions" / "sqlgate.yml")
    lint = workflow["jobs"]["lint"]
    assert lint["permissions"]["security-events"] == "write"
    uses = [s.get("uses", "") for s in lint["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    runs = " ".join(s.get("run", "") for s in lint["steps"])
    assert "--format sarif" in runs


def test_pre_commit_hook() -> None:
    (hooks,) = _docs(ROOT / ".pre-commit-hooks.yaml")
    (hook,) = hooks
    assert hook["id"] == "sqlgate-check"
    assert hook["entry"] == "sqlgate check --local --format text"
    assert hook["files"] == r"\.sql$"
