"""The compose `monitoring` profile and the Fluent Bit DaemonSet: Grafana provisioned with
both data sources and the dashboard, images pinned, every file mounted where it is read."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deployment.monitoring_support import (
    DASHBOARD,
    MONITORING,
    ROOT,
    dashboard,
    dashboard_panels,
    dashboard_queries,
)

GRAFANA = MONITORING / "grafana"
FLUENT_BIT = MONITORING / "fluent-bit"
MONITORING_SERVICES = ("prometheus", "grafana", "loki", "fluent-bit")
KUBERNETES_VERSION = "1.30.0"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return data


def mounts(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> checkout path of a service's bind mounts."""
    found = {}
    for mount in service.get("volumes", []):
        source, target = mount.split(":")[:2]
        if source.startswith("./"):
            found[target] = (ROOT / source).resolve()
    return found


def test_the_monitoring_profile_runs_pinned_images(services: dict[str, Any]) -> None:
    for name in MONITORING_SERVICES:
        service = services[name]
        assert service["profiles"] == ["monitoring"], f"{name} starts only with the profile"
        image, _, tag = service["image"].rpartition(":")
        assert image and tag, f"{name} names a tag"
        assert tag[0].isdigit() or tag[:2] in {f"v{d}" for d in "0123456789"}, f"{name}: {tag}"


def test_grafana_is_provisioned_with_prometheus_loki_and_the_dashboard(
    services: dict[str, Any],
) -> None:
    grafana = mounts(services["grafana"])
    provisioning = grafana["/etc/grafana/provisioning"]
    assert provisioning == (GRAFANA / "provisioning").resolve()
    [sources] = (provisioning / "datasources").glob("*.yml")
    by_type = {s["type"]: s for s in yaml.safe_load(sources.read_text())["datasources"]}
    assert by_type["prometheus"]["url"] == "http://prometheus:9090"
    assert "9090:9090" in services["prometheus"]["ports"]
    assert by_type["loki"]["url"] == "http://loki:3100"
    [providers] = (provisioning / "dashboards").glob("*.yml")
    [provider] = yaml.safe_load(providers.read_text())["providers"]
    dashboards = grafana[provider["options"]["path"]]
    assert DASHBOARD.parent.resolve() == dashboards and DASHBOARD.exists()
    assert all(port.startswith("127.0.0.1:") for port in services["grafana"]["ports"])


def test_the_dashboard_asks_for_its_data_sources_and_lays_out_cleanly() -> None:
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["loki"]["query"] == "loki"
    panels = dashboard_panels()
    assert len({p["id"] for p in panels}) == len(panels), "panel ids are unique"
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        area = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        for target in panel.get("targets", []):
            uid = target["datasource"]["uid"]
            assert (
                uid
                == {"prometheus": "${datasource}", "loki": "${loki}"}[target["datasource"]["type"]]
            )
    assert dashboard_queries("loki"), "the dashboard shows the shipped logs too"


def test_fluent_bit_gets_its_config_and_the_app_its_logging_driver(
    services: dict[str, Any],
) -> None:
    fluent_bit = services["fluent-bit"]
    config_dir = mounts(fluent_bit)["/fluent-bit/etc/agentplatform"]
    assert config_dir == FLUENT_BIT.resolve()
    config = fluent_bit["command"][fluent_bit["command"].index("-c") + 1]
    assert (config_dir / Path(config).relative_to("/fluent-bit/etc/agentplatform")).exists()
    assert fluent_bit["environment"]["LOKI_HOST"] == "loki"
    override = yaml.safe_load((MONITORING / "compose.logging.yml").read_text())
    logging = override["services"]["app"]["logging"]
    assert logging["driver"] == "fluentd"
    host_port = logging["options"]["fluentd-address"]
    assert f"{host_port}:24224" in fluent_bit["ports"]
    pipeline = yaml.safe_load((config_dir / Path(config).name).read_text())["pipeline"]
    [forward] = pipeline["inputs"]
    assert forward["name"] == "forward" and int(forward["port"]) == 24224
    tag = logging["options"]["tag"]
    assert all(
        step["match"] == "agentplatform.*" and tag.startswith("agentplatform.")
        for step in [*pipeline["filters"], *pipeline["outputs"]]
    )


def rendered_daemonset() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl renders the kustomization: apt-get install kubectl")
    done = subprocess.run(
        [kubectl, "kustomize", str(FLUENT_BIT)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def test_the_fluent_bit_daemonset_renders_valid_and_mounts_its_pipeline() -> None:
    documents = rendered_daemonset()
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    by_kind = {doc["kind"]: doc for doc in documents}
    config_map = by_kind["ConfigMap"]
    assert set(config_map["data"]) == {
        "fluent-bit-kubernetes.yaml",
        "parsers.yaml",
        "drop_nulls.lua",
    }
    for name, text in config_map["data"].items():
        assert text == (FLUENT_BIT / name).read_text()
    pod = by_kind["DaemonSet"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounted = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
    config = container["args"][container["args"].index("-c") + 1]
    assert mounted[str(Path(config).parent)]["configMap"]["name"] == config_map["metadata"]["name"]
    assert mounted["/var/log"]["hostPath"]["path"] == "/var/log"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]
    tail = yaml.safe_load((FLUENT_BIT / "fluent-bit-kubernetes.yaml").read_text())["pipeline"]
    [tail_input] = tail["inputs"]
    state = str(Path(tail_input["db"]).parent)
    assert "hostPath" in mounted[state], "read positions survive a restart"
    account = by_kind["ServiceAccount"]["metadata"]
    assert by_kind["ClusterRoleBinding"]["subjects"][0]["namespace"] == account["namespace"]
