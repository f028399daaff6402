"""deployment/k8s: valid against the Kubernetes API schemas, and wired the way the app runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from agentplatform.core.config import Settings
from agentplatform.services.run_queue import queue_name

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deployment" / "k8s"
KUBERNETES_VERSION = "1.30.0"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return data


@pytest.fixture(scope="module")
def resources() -> dict[tuple[str, str], dict[str, Any]]:
    """Every resource the kustomization applies, by (kind, name)."""
    found = {}
    for name in kustomization()["resources"]:
        for doc in documents(K8S / name):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@pytest.mark.parametrize(
    "path",
    [*kustomization()["resources"], "secret.example.yaml"],
)
def test_manifests_validate_against_the_kubernetes_schemas(path: str) -> None:
    for doc in documents(K8S / path):
        assert "namespace" not in doc["metadata"]  # applied into the namespace you choose
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def pod(resources: dict[tuple[str, str], dict[str, Any]], name: str) -> dict[str, Any]:
    spec: dict[str, Any] = resources[("Deployment", name)]["spec"]["template"]["spec"]
    return spec


def test_the_app_runs_two_probed_non_root_replicas(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    deployment = resources[("Deployment", "agentplatform-app")]
    assert deployment["spec"]["replicas"] == 2
    spec = pod(resources, "agentplatform-app")
    [container] = spec["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]
    service = resources[("Service", "agentplatform")]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_workers_run_the_worker_command_with_a_grace_within_the_pod_s(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    spec = pod(resources, "agentplatform-worker")
    [container] = spec["containers"]
    command = container["command"]
    assert command[command.index("agentplatform") + 1] == "worker"
    grace = float(command[command.index("--grace") + 1])
    assert grace < spec["terminationGracePeriodSeconds"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["image"] == pod(resources, "agentplatform-app")["containers"][0]["image"]
    hpa = resources[("HorizontalPodAutoscaler", "agentplatform-worker")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "agentplatform-worker"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_settings_come_from_the_configmap_and_the_secret(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    config = resources[("ConfigMap", "agentplatform-config")]["data"]
    fields = {name.upper() for name in Settings.model_fields}
    assert set(config) <= fields  # no misspelt setting
    assert config["ENVIRONMENT"] == "production" and config["RUN_IN_APP_WORKER"] == "false"
    [secret] = documents(K8S / "secret.example.yaml")
    assert set(secret["stringData"]) <= fields
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= set(secret["stringData"])
    assert secret["stringData"]["SECRET_KEY"] == ""  # no usable secret in the repository
    assert "secret.example.yaml" not in kustomization()["resources"]
    for name in ("agentplatform-app", "agentplatform-worker"):
        sources = pod(resources, name)["containers"][0]["envFrom"]
        assert {"configMapRef": {"name": "agentplatform-config"}} in sources
        assert {"secretRef": {"name": "agentplatform-secrets"}} in sources


def test_the_optional_keda_scaler_watches_the_run_queue(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    path = K8S / "optional" / "keda-scaledobject.yaml"
    scaled = next(doc for doc in documents(path) if doc["kind"] == "ScaledObject")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "agentplatform-worker"
    [trigger] = scaled["spec"]["triggers"]
    prefix = resources[("ConfigMap", "agentplatform-config")]["data"]["REDIS_PREFIX"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == queue_name(prefix)
    assert not any("optional" in name for name in kustomization()["resources"])


def test_the_connection_budget_covers_every_pod_and_fits_a_default_postgres(
    resources: dict[tuple[str, str], dict[str, Any]],
) -> None:
    """Every pod checks the budget at start-up and refuses to start over it: the manifests'
    numbers must count every pod a rollout can run and fit PostgreSQL's default 100 slots."""
    from agentplatform.core.config import load_settings
    from agentplatform.core.db_budget import ServerLimits, budget_of, judge

    config = resources[("ConfigMap", "agentplatform-config")]["data"]
    settings = load_settings(
        **{name.lower(): value for name, value in config.items()},
        secret_key="k" * 48,
        redis_url="redis://redis:6379/0",
        database_url="postgresql+psycopg://agentplatform@postgres:5432/agentplatform",
    )
    app = resources[("Deployment", "agentplatform-app")]["spec"]
    assert settings.app_replicas >= app["replicas"] + app["strategy"]["rollingUpdate"]["maxSurge"]
    hpa = resources[("HorizontalPodAutoscaler", "agentplatform-worker")]["spec"]
    keda_path = K8S / "optional" / "keda-scaledobject.yaml"
    keda = next(doc for doc in documents(keda_path) if doc["kind"] == "ScaledObject")["spec"]
    for most in (hpa["maxReplicas"], keda["maxReplicaCount"]):
        surge = -(-most * 25 // 100)  # the worker Deployment's default maxSurge: 25%
        assert settings.run_workers >= most + surge
    cpu_limit = pod(resources, "agentplatform-app")["containers"][0]["resources"]["limits"]["cpu"]
    assert settings.web_workers == int(cpu_limit)
    verdict = judge(budget_of(settings), ServerLimits(max_connections=100, superuser_reserved=3))
    assert verdict.fits, verdict.message
