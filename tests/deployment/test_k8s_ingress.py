"""The Ingresses: TLS for the environment's host, rate limits (stricter on sign-in), streams."""

from __future__ import annotations

import re

import pytest

from tests.deployment.k8s_support import OVERLAYS, index, of_kind, render

HOSTS = {"staging": "staging.agents.example.com", "production": "agents.example.com"}
ISSUERS = {"staging": "letsencrypt-staging", "production": "letsencrypt-prod"}
NGINX = "nginx.ingress.kubernetes.io/"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_path_is_served_over_tls_for_the_environment_s_host(overlay: str) -> None:
    ingresses = of_kind(render(overlay), "Ingress")
    assert len(ingresses) == 4
    issuers = []
    for ingress in ingresses:
        spec, annotations = ingress["spec"], ingress["metadata"]["annotations"]
        assert spec["ingressClassName"] == "nginx"
        assert spec["tls"] == [{"hosts": [HOSTS[overlay]], "secretName": "agentplatform-tls"}]
        assert [rule["host"] for rule in spec["rules"]] == [HOSTS[overlay]]
        assert annotations[f"{NGINX}force-ssl-redirect"] == "true"
        for path in spec["rules"][0]["http"]["paths"]:
            backend = path["backend"]["service"]
            assert backend == {"name": "agentplatform", "port": {"name": "http"}}
        if "cert-manager.io/cluster-issuer" in annotations:
            issuers.append(annotations["cert-manager.io/cluster-issuer"])
    # One Certificate for the shared secret: two would fight over it.
    assert issuers == [ISSUERS[overlay]]


def _paths(overlay: str) -> dict[str, dict[str, str]]:
    found = {}
    for ingress in of_kind(render(overlay), "Ingress"):
        for path in ingress["spec"]["rules"][0]["http"]["paths"]:
            found[path["path"]] = ingress["metadata"]["annotations"]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_sign_in_is_limited_much_harder_than_the_rest(overlay: str) -> None:
    paths = _paths(overlay)
    everything, login = paths["/"], paths["/api/auth/login"]
    per_minute = int(everything[f"{NGINX}limit-rps"]) * 60
    assert int(login[f"{NGINX}limit-rpm"]) * 10 <= per_minute
    assert int(login[f"{NGINX}limit-burst-multiplier"]) == 1
    assert everything[f"{NGINX}proxy-body-size"] == "1m"
    login_ingress = index(render(overlay))[("Ingress", "agentplatform-login")]
    assert login_ingress["spec"]["rules"][0]["http"]["paths"][0]["pathType"] == "Exact"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_run_events_stream_unbuffered_and_the_ui_websocket_stays_open(overlay: str) -> None:
    paths = _paths(overlay)
    [events] = [p for p in paths if "events" in p]
    assert re.fullmatch(events, "/api/runs/0b6f1c9e-3a51-4a9e-9d0a-2f3c/events")
    assert not re.fullmatch(events, "/api/runs/1/steps")
    sse = paths[events]
    assert sse[f"{NGINX}proxy-buffering"] == "off" and sse[f"{NGINX}use-regex"] == "true"
    assert int(sse[f"{NGINX}proxy-read-timeout"]) >= 3600
    websocket = paths["/_event"]
    assert int(websocket[f"{NGINX}proxy-read-timeout"]) >= 3600
    assert int(paths["/"][f"{NGINX}proxy-read-timeout"]) <= 120  # ordinary requests stay short
