"""deployment/k8s: both overlays render, validate, and run the app the way it runs.

Every rendered manifest is checked against the Kubernetes API schemas (built-in kinds) or models
of its CRD (Istio, Prometheus Operator, KEDA: deployment/scanners); then what the app needs:
probes, non-root and read-only containers with resources, migrations under a lock, settings that
match the image, autoscaling, and backups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from agentplatform.core.config import Settings
from agentplatform.services.run_queue import queue_name
from tests.deployment.k8s_support import (
    K8S,
    KUBERNETES_VERSIONS,
    NAMESPACES,
    OVERLAYS,
    all_containers,
    check_custom_resources,
    documents,
    index,
    of_kind,
    pod_template,
    render,
    render_dir,
    workloads,
)

Doc = dict[str, Any]
APP_DEPLOYMENTS = {
    "staging": ["agentplatform-app-blue"],
    "production": ["agentplatform-app-blue", "agentplatform-app-green"],
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_manifest_validates(overlay: str, tmp_path: Path) -> None:
    docs = render(overlay)
    assert len(docs) > 30
    builtin = [
        doc
        for doc in docs
        if "." not in doc["apiVersion"].rpartition("/")[0]
        or doc["apiVersion"].rpartition("/")[0].endswith(".k8s.io")
    ]
    for doc in builtin:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)
    custom = [doc for doc in docs if doc not in builtin]
    assert {doc["kind"] for doc in custom} >= {"ServiceMonitor", "PrometheusRule"}
    check_custom_resources(custom, tmp_path)


@pytest.mark.parametrize("path", ["secret.example.yaml", "restore-job.yaml"])
def test_the_manifests_applied_by_hand_validate(path: str) -> None:
    for doc in documents(K8S / path):
        assert "namespace" not in doc["metadata"]  # applied into the namespace you choose
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[0], strict=True)


def test_the_base_has_no_namespace_and_each_overlay_sets_its_own() -> None:
    assert all("namespace" not in doc["metadata"] for doc in render_dir(K8S / "base"))
    for overlay in OVERLAYS:
        for doc in render(overlay):
            expected = None if doc["kind"] == "Namespace" else NAMESPACES[overlay]
            assert doc["metadata"].get("namespace") == expected, doc["metadata"]
        assert all(
            d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "agentplatform"
            for d in render(overlay)
        )
        [namespace] = of_kind(render(overlay), "Namespace")
        assert namespace["metadata"]["name"] == NAMESPACES[overlay]
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_non_root_read_only_and_bounded(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        spec = pod_template(workload)["spec"]
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"].startswith("agentplatform-"), name
        for container in all_containers(spec):
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[bound]), f"{where} {bound}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_app_is_probed_spread_and_writes_only_its_volumes(overlay: str) -> None:
    found = index(render(overlay))
    for name in APP_DEPLOYMENTS[overlay]:
        spec = pod_template(found[("Deployment", name)])["spec"]
        [app] = spec["containers"]
        assert app["startupProbe"]["httpGet"]["path"] == "/api/health"
        assert app["readinessProbe"]["httpGet"]["path"] == "/api/ready"
        assert app["livenessProbe"]["httpGet"]["path"] == "/api/health"
        assert app["image"].startswith("registry.example.com/agentplatform")
        assert {m["mountPath"] for m in app["volumeMounts"]} == {"/data", "/tmp"}
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert all("emptyDir" in volumes[m["name"]] for m in app["volumeMounts"])
        keys = {c["topologyKey"] for c in spec["topologySpreadConstraints"]}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        assert "replicas" not in found[("Deployment", name)]["spec"]  # the HPA owns the count
        hpa = found[("HorizontalPodAutoscaler", name)]["spec"]
        assert hpa["scaleTargetRef"]["name"] == name and hpa["minReplicas"] >= 2
        metrics = {m["type"]: m for m in hpa["metrics"]}
        assert metrics["Resource"]["resource"]["name"] == "cpu"
        assert metrics["Pods"]["pods"]["metric"]["name"] == "agentplatform_runs_active"
        selector = found[("Deployment", name)]["spec"]["selector"]["matchLabels"]
        assert found[("PodDisruptionBudget", name)]["spec"]["selector"]["matchLabels"] == selector
        assert found[("PodDisruptionBudget", name)]["spec"]["maxUnavailable"] == 1
    live = found[("Deployment", "agentplatform-app-blue")]["spec"]["selector"]["matchLabels"]
    assert found[("Service", "agentplatform")]["spec"]["selector"] == live


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_once_per_start_under_a_lock_in_init_containers(overlay: str) -> None:
    docs = render(overlay)
    found = index(docs)
    [script] = [d for d in of_kind(docs, "ConfigMap") if "migrate" in d["metadata"]["name"]]
    source = (K8S / "base" / "migrations" / "migrate_with_lock.py").read_text()
    assert script["data"]["migrate_with_lock.py"] == source
    assert "pg_advisory_lock" in source
    for name in [*APP_DEPLOYMENTS[overlay], "agentplatform-worker"]:
        spec = pod_template(found[("Deployment", name)])["spec"]
        [migrate] = spec["initContainers"]
        assert migrate["command"] == ["python", "/opt/agentplatform-migrate/migrate_with_lock.py"]
        assert migrate["image"] == spec["containers"][0]["image"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        mount = next(m for m in migrate["volumeMounts"] if m["mountPath"].endswith("-migrate"))
        assert volumes[mount["name"]]["configMap"]["name"] == script["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_run_the_worker_with_a_grace_the_pod_allows(overlay: str) -> None:
    found = index(render(overlay))
    spec = pod_template(found[("Deployment", "agentplatform-worker")])["spec"]
    [worker] = spec["containers"]
    command = worker["command"]
    assert command[command.index("agentplatform") + 1] == "worker"
    grace = float(command[command.index("--grace") + 1])
    # SIGTERM, then --grace seconds for running runs, then time to record the interrupted ones.
    assert grace + 10 <= spec["terminationGracePeriodSeconds"]
    app = pod_template(found[("Deployment", "agentplatform-app-blue")])["spec"]["containers"][0]
    assert worker["image"] == app["image"]
    assert found[("PodDisruptionBudget", "agentplatform-worker")]["spec"]["maxUnavailable"] == 1


def test_workers_scale_on_cpu_in_staging_and_on_queue_depth_with_keda_in_production() -> None:
    staging = index(render("staging"))
    hpa = staging[("HorizontalPodAutoscaler", "agentplatform-worker")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "agentplatform-worker"
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert not [key for key in staging if key[0] == "ScaledObject"]

    production = index(render("production"))
    assert ("HorizontalPodAutoscaler", "agentplatform-worker") not in production  # KEDA owns it
    scaled = production[("ScaledObject", "agentplatform-worker")]["spec"]
    assert scaled["scaleTargetRef"]["name"] == "agentplatform-worker"
    [trigger] = scaled["triggers"]
    prefix = production[("ConfigMap", "agentplatform-config")]["data"]["REDIS_PREFIX"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == queue_name(prefix)
    redis = production[("Service", "agentplatform-redis")]
    assert trigger["metadata"]["address"] == (
        f"agentplatform-redis.{NAMESPACES['production']}.svc.cluster.local:"
        f"{redis['spec']['ports'][0]['port']}"
    )
    auth = production[("TriggerAuthentication", trigger["authenticationRef"]["name"])]["spec"]
    [secret] = auth["secretTargetRef"]
    redis_pod = pod_template(production[("Deployment", "agentplatform-redis")])["spec"]
    password = next(e for e in redis_pod["containers"][0]["env"] if e["name"] == "REDIS_PASSWORD")
    assert secret["name"] == password["valueFrom"]["secretKeyRef"]["name"]
    assert secret["key"] == password["valueFrom"]["secretKeyRef"]["key"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_come_from_the_configmap_and_the_secret(overlay: str) -> None:
    found = index(render(overlay))
    config = found[("ConfigMap", "agentplatform-config")]["data"]
    fields = {name.upper() for name in Settings.model_fields}
    assert set(config) <= fields  # no misspelt setting
    assert config["ENVIRONMENT"] == "production" and config["RUN_IN_APP_WORKER"] == "false"
    assert config["TRUSTED_PROXIES"]
    # The image's frontend is built for PORT 3000 with no REFLEX_API_URL: a different value
    # would make `serve` rebuild it, which the read-only /app refuses.
    assert config["PORT"] == "3000" and "REFLEX_API_URL" not in config
    app = pod_template(found[("Deployment", "agentplatform-app-blue")])["spec"]["containers"][0]
    assert app["ports"][0]["containerPort"] == 3000
    [secret] = documents(K8S / "secret.example.yaml")[:1]
    assert set(secret["stringData"]) <= fields
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN"} <= set(secret["stringData"])
    assert secret["stringData"]["SECRET_KEY"] == ""  # no usable secret in the repository
    for workload in workloads(list(found.values())):
        spec = pod_template(workload)["spec"]
        for container in all_containers(spec):
            if container["image"].startswith("registry.example.com/agentplatform"):
                sources = container["envFrom"]
                assert {"configMapRef": {"name": "agentplatform-config"}} in sources
                assert {"secretRef": {"name": "agentplatform-secrets"}} in sources
    assert not [d for d in found.values() if d["kind"] == "Secret"]  # created by hand, never here


@pytest.mark.parametrize(("overlay", "keep"), [("staging", "7"), ("production", "14")])
def test_a_daily_backup_keeps_the_newest_dumps_on_their_own_volume(overlay: str, keep: str) -> None:
    found = index(render(overlay))
    cronjob = found[("CronJob", "agentplatform-backup")]
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cronjob["spec"]["schedule"].split()) == 5
    spec = pod_template(cronjob)["spec"]
    [backup] = spec["containers"]
    command = backup["command"]
    assert command[command.index("agentplatform") :] == [
        "agentplatform", "backup", "--dir", "/backups", "--keep", keep,
    ]  # fmt: skip
    mount = next(m for m in backup["volumeMounts"] if m["mountPath"] == "/backups")
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    claim = volume["persistentVolumeClaim"]["claimName"]
    assert ("PersistentVolumeClaim", claim) in found
    labels = pod_template(cronjob)["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "backup"

    [restore] = documents(K8S / "restore-job.yaml")
    restore_spec = pod_template(restore)["spec"]
    [container] = restore_spec["containers"]
    assert container["command"][-1] == "--yes" and "restore" in " ".join(container["command"])
    assert restore_spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim
    assert pod_template(restore)["metadata"]["labels"]["app.kubernetes.io/component"] == "backup"


def test_postgres_keeps_its_data_on_a_claim_and_matches_the_image_s_pg_dump() -> None:
    found = index(render("production"))
    statefulset = found[("StatefulSet", "agentplatform-postgres")]
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    [postgres] = pod_template(statefulset)["spec"]["containers"]
    assert any(m["name"] == claim["metadata"]["name"] for m in postgres["volumeMounts"])
    assert postgres["image"].split(":")[1].startswith("15")  # the image's pg_dump is 15
    assert "pg_isready" in " ".join(postgres["readinessProbe"]["exec"]["command"])
    service = found[("Service", "agentplatform-postgres")]
    assert service["spec"]["selector"] == statefulset["spec"]["selector"]["matchLabels"]


def test_redis_runs_without_persistence_and_keeps_its_password_off_the_command_line() -> None:
    found = index(render("production"))
    [redis] = pod_template(found[("Deployment", "agentplatform-redis")])["spec"]["containers"]
    script = " ".join(redis["command"])
    assert '--save ""' in script and "--appendonly no" in script
    assert "redis-server -" in script and "requirepass $REDIS_PASSWORD" in script
    assert "volatile-lru" in script  # evicts caches, never the run queue


def test_a_managed_database_replaces_the_in_cluster_one(tmp_path: Any) -> None:
    from tests.deployment.k8s_support import compose

    docs = render_dir(compose(tmp_path / "managed", "production", ["external-postgres"]))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("StatefulSet", "agentplatform-postgres") not in kinds
    assert ("Service", "agentplatform-postgres") not in kinds
    [policy] = [d for d in docs if d["metadata"]["name"] == "agentplatform-external-postgres"]
    [rule] = policy["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert set(policy["spec"]["podSelector"]["matchExpressions"][0]["values"]) == {
        "app", "worker", "backup",
    }  # fmt: skip


def test_the_connection_budget_counts_every_pod_and_fits_the_in_cluster_postgres() -> None:
    """Every pod checks the budget at start-up and refuses to start over it: the ConfigMap must
    count every pod the autoscalers and a blue-green switch can run at once, and fit the
    StatefulSet's max_connections."""
    from agentplatform.core.config import load_settings
    from agentplatform.core.db_budget import ServerLimits, budget_of, judge

    found = index(render("production"))
    config = found[("ConfigMap", "agentplatform-config")]["data"]
    settings = load_settings(
        **{name.lower(): value for name, value in config.items()},
        secret_key="k" * 48,
        redis_url="redis://redis:6379/0",
        database_url="postgresql+psycopg://agentplatform@postgres:5432/agentplatform",
    )
    app_pods = 0
    for name in APP_DEPLOYMENTS["production"]:
        hpa = next(
            d["spec"] for d in of_kind(list(found.values()), "HorizontalPodAutoscaler")
            if d["spec"]["scaleTargetRef"]["name"] == name
        )  # fmt: skip
        surge = found[("Deployment", name)]["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        app_pods += hpa["maxReplicas"] + surge
    assert settings.app_replicas >= app_pods
    most_workers = max(
        d["spec"].get("maxReplicas") or d["spec"]["maxReplicaCount"]
        for d in [*of_kind(list(found.values()), "HorizontalPodAutoscaler"),
                  *of_kind(list(found.values()), "ScaledObject")]
        if d["spec"]["scaleTargetRef"]["name"] == "agentplatform-worker"
    )  # fmt: skip
    assert settings.run_workers >= most_workers + -(-most_workers * 25 // 100)
    app = pod_template(found[("Deployment", "agentplatform-app-blue")])["spec"]["containers"]
    serving = next(c for c in app if c["name"] == "app")
    assert settings.web_workers == int(serving["resources"]["limits"]["cpu"])
    [postgres] = pod_template(found[("StatefulSet", "agentplatform-postgres")])["spec"][
        "containers"
    ]
    max_connections = int(postgres["args"][postgres["args"].index("-c") + 1].split("=")[1])
    verdict = judge(
        budget_of(settings), ServerLimits(max_connections=max_connections, superuser_reserved=3)
    )
    assert verdict.fits, verdict.message
