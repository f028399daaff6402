"""docker-compose.yml follows the compose spec and wires app, PostgreSQL and Redis safely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_validates_against_the_compose_spec() -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         "docker-compose.yml"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_services_have_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"app", "postgres", "redis"} <= set(services)
    for name in ("app", "postgres", "redis"):
        check = services[name]["healthcheck"]
        assert check["test"], f"{name} has a health check"
        assert check.get("interval") and check.get("retries")
    assert "/api/ready" in " ".join(services["app"]["healthcheck"]["test"])


def test_app_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    depends = compose["services"]["app"]["depends_on"]
    assert depends == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    for name in ("app", "postgres", "redis"):
        mounts = compose["services"][name]["volumes"]
        sources = {mount.split(":", 1)[0] for mount in mounts}
        assert sources & named, f"{name} keeps its data in a named volume"


def test_app_reads_env_file_and_requires_a_secret(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert any(entry["path"] == ".env" for entry in app["env_file"])
    assert app["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert app["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert app["environment"]["REDIS_URL"].startswith("redis://redis:")


def test_prometheus_config_scrapes_the_app(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deployment" / "monitoring" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "agentplatform")
    assert job["metrics_path"] == "/metrics"
    port = str(compose["services"]["app"]["environment"]["PORT"]).split(":-")[-1].rstrip("}")
    assert job["static_configs"][0]["targets"] == [f"app:{port}"]
    mounts = compose["services"]["prometheus"]["volumes"]
    assert any(m.startswith("./deployment/monitoring/prometheus.yml:") for m in mounts)
