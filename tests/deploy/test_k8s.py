"""deploy/k8s/, run as written: the Deployment's init container and two replicas of its
container (argv, env, mounted ConfigMap and Secret files) as local processes on one
real PostgreSQL store. Both reach SERVING for the readiness probe's service, a token
issued by one replica is redeemed by the other, and the replay is refused by the first.
Also checked: the manifest's operational guarantees (PDB, non-root, read-only root with
a writable /tmp, gRPC probes, metrics port = the config's).
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from container import Rootfs, argv, environment, run_once, start, stop
from deploy_common import (
    ALLOW,
    DEPLOY,
    DIGESTS,
    load_yaml_docs,
    port_of,
    scrape,
    with_test_principals,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc
from serving import free_port, pg_store_url, wait_serving
from sqlgate.trust.keys import Keyset
from sqlgate_client.channel import open_channel
from sqlgate_client.check import MigrationInput, check_remote
from sqlgate_client.execution import CallRefused, ExecutionClient

K8S = DEPLOY / "k8s"


def _manifests() -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for name in yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]:
        for doc in load_yaml_docs(K8S / name):
            docs[doc["kind"]] = doc
    return docs


def test_manifests_hold_the_operational_guarantees() -> None:
    m = _manifests()
    deploy, pdb, cm, svc = m["Deployment"], m["PodDisruptionBudget"], m["ConfigMap"], m["Service"]
    assert deploy["spec"]["replicas"] >= 2
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"] == labels == svc["spec"]["selector"]
    assert pdb["spec"]["minAvailable"] >= 1
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    volumes = {v["name"]: v for v in pod["volumes"]}
    for c in [*pod["initContainers"], *pod["containers"]]:
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert all(vm["name"] in volumes for vm in c["volumeMounts"])
    (server,) = pod["containers"]
    mounts = {vm["mountPath"]: vm["name"] for vm in server["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]  # the one writable place
    ports = {p["name"]: p["containerPort"] for p in server["ports"]}
    config = yaml.safe_load(cm["data"]["config.yaml"])
    assert ports["grpc"] == port_of(config["listen"])
    assert ports["metrics"] == port_of(config["metrics_listen"])
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert server[probe]["grpc"]["port"] == ports["grpc"]
    assert {p["targetPort"] for p in svc["spec"]["ports"]} == {"grpc", "metrics"}
    annotations = deploy["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    assert "store" not in config  # from the Secret, shared by every replica
    env = {e["name"]: e for e in server["env"]}
    assert env["SQLGATE_STORE"]["valueFrom"]["secretKeyRef"]["name"] == "sqlgate-store"


def _secret_dir(tmp: Path) -> Path:
    """The sqlgate-keys Secret as the kubelet mounts it: `sqlgate keys generate` output,
    files root-owned-style group-readable (defaultMode 0440)."""
    made = tmp / "generated"
    Keyset.generate(made)
    secret = tmp / "secret-keys"
    secret.mkdir()
    for f in made.iterdir():
        (secret / f.name).write_bytes(f.read_bytes())
        (secret / f.name).chmod(0o440)
    return secret


@pytest.mark.slow
@pytest.mark.postgres
def test_two_replicas_share_one_store(pg_dsn: str, tmp_path: Path) -> None:
    m = _manifests()
    pod = m["Deployment"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (init,) = pod["initContainers"]
    (server,) = pod["containers"]
    secret = _secret_dir(tmp_path)
    config_text, tokens = with_test_principals(m["ConfigMap"]["data"]["config.yaml"])
    store_url = pg_store_url(pg_dsn, "k8s")  # the sqlgate-store Secret's url
    procs: list[subprocess.Popen[Any]] = []
    replicas = []
    try:
        for i in range(m["Deployment"]["spec"]["replicas"]):
            port, metrics = free_port(), free_port()
            rootfs = Rootfs(tmp_path / f"pod{i}")
            rootfs.hosts = {
                "0.0.0.0:50051": f"127.0.0.1:{port}",
                "0.0.0.0:9464": f"127.0.0.1:{metrics}",
            }
            for c in (init, server):
                for vm in c["volumeMounts"]:
                    volume = volumes[vm["name"]]
                    local = secret if "secret" in volume else None
                    if vm["mountPath"] not in rootfs.mounts:
                        rootfs.mount(vm["mountPath"], local)
            rootfs.install("/etc/sqlgate/config.yaml", config_text)
            done = run_once(argv(init["command"], [], rootfs), environment({}, rootfs), tmp_path)
            assert done.returncode == 0, done.stderr
            keys = rootfs.mounts["/var/lib/sqlgate/keys"]
            pems = list(keys.glob("*.pem"))
            assert len(pems) == 3
            assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in pems)
            env = {
                e["name"]: e.get("value") or store_url
                for e in server["env"]
                if "value" in e
                or e["valueFrom"]["secretKeyRef"] == {"name": "sqlgate-store", "key": "url"}
            }
            cmd = argv(["sqlgate"], server["args"], rootfs)
            proc = start(cmd, environment(env, rootfs), tmp_path, tmp_path / f"pod{i}.log")
            procs.append(proc)
            replicas.append((f"127.0.0.1:{port}", metrics, proc))
        service = server["readinessProbe"]["grpc"]["service"]
        for address, metrics, proc in replicas:
            wait_serving(address, proc)
            with open_channel(address, tls=None) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=service), timeout=5
                )
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            assert "sqlgate_rpc_requests_total" in scrape(metrics)

        (a, _, _), (b, _, _) = replicas[0], replicas[1]
        checked = check_remote(
            a,
            migrations=[MigrationInput("V1__notes.sql", ALLOW)],
            environment="production",
            target="main-db",
            dialect="postgres",
            token=tokens["ci"],
        )
        assert checked["decision"] == "allow"
        with ExecutionClient(a, api_token=tokens["deployer"]) as on_a:
            issued = on_a.issue_token(checked["verdict_id"], "production", "main-db")
        with ExecutionClient(b, api_token=tokens["deployer"]) as on_b:
            redeemed = on_b.redeem(issued.token, "production", "main-db", DIGESTS)
        assert redeemed.verdict_id == checked["verdict_id"]
        with (
            ExecutionClient(a, api_token=tokens["deployer"]) as on_a,
            pytest.raises(CallRefused) as replay,
        ):
            on_a.redeem(issued.token, "production", "main-db", DIGESTS)
        assert replay.value.reason == "replay"
    finally:
        for proc in procs:
            stop(proc)
