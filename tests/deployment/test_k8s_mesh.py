"""The Istio policies of the production overlay: mTLS, who may call whom, and which calls retry.

Routes are checked the way Istio picks them (the first match wins), for the requests that
matter: starting a run is never retried, streams never time out, reads retry.
"""

from __future__ import annotations

import re
from typing import Any

from tests.deployment.k8s_support import NAMESPACES, index, of_kind, pod_template, render

Doc = dict[str, Any]
NAMESPACE = NAMESPACES["production"]


def _principal(account: str, namespace: str = NAMESPACE) -> str:
    return f"cluster.local/ns/{namespace}/sa/{account}"


def test_every_workload_accepts_only_mutual_tls() -> None:
    docs = render("production")
    [peer] = of_kind(docs, "PeerAuthentication")
    assert "selector" not in peer["spec"]  # the whole namespace
    assert peer["spec"]["mtls"]["mode"] == "STRICT"
    [namespace] = of_kind(docs, "Namespace")
    assert namespace["metadata"]["labels"]["istio-injection"] == "enabled"
    assert not of_kind(render("staging"), "PeerAuthentication")  # staging runs without a mesh


def _allowed_sources(policy: Doc) -> list[Doc]:
    assert policy["spec"].get("action", "ALLOW") == "ALLOW"
    return [source["source"] for rule in policy["spec"].get("rules", []) for source in rule["from"]]


def test_only_the_ingress_controller_calls_the_app_and_prometheus_reads_metrics() -> None:
    found = index(render("production"))
    policy = found[("AuthorizationPolicy", "agentplatform-app")]
    first, metrics = policy["spec"]["rules"]
    assert first["from"] == [
        {"source": {"principals": ["cluster.local/ns/ingress-nginx/sa/ingress-nginx"]}}
    ]
    assert metrics["to"] == [{"operation": {"methods": ["GET"], "paths": ["/metrics"]}}]
    assert policy["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "app"
    worker = found[("AuthorizationPolicy", "agentplatform-worker")]
    assert "rules" not in worker["spec"]  # ALLOW with no rule: nobody


def test_only_the_app_workers_and_backups_call_the_data_stores() -> None:
    docs = render("production")
    found = index(docs)
    accounts = {
        pod_template(d)["metadata"]["labels"]["app.kubernetes.io/component"]: pod_template(d)[
            "spec"
        ]["serviceAccountName"]
        for d in docs
        if d["kind"] in {"Deployment", "StatefulSet", "CronJob"}
    }
    postgres = _allowed_sources(found[("AuthorizationPolicy", "agentplatform-postgres")])
    assert postgres == [
        {"principals": [_principal(accounts[c]) for c in ("app", "worker", "backup")]}
    ]
    redis = _allowed_sources(found[("AuthorizationPolicy", "agentplatform-redis")])
    assert redis == [
        {
            "principals": [
                _principal(accounts["app"]),
                _principal(accounts["worker"]),
                _principal("keda-operator", "keda"),
            ]
        }
    ]
    for account in {accounts["app"], accounts["worker"], accounts["backup"]}:
        assert ("ServiceAccount", account) in found


def test_destination_rules_bound_connections_and_eject_failing_app_pods() -> None:
    found = index(render("production"))
    app = found[("DestinationRule", "agentplatform")]["spec"]["trafficPolicy"]
    assert app["tls"]["mode"] == "ISTIO_MUTUAL"
    assert app["outlierDetection"]["consecutive5xxErrors"] > 0
    assert app["outlierDetection"]["maxEjectionPercent"] <= 50
    assert app["connectionPool"]["http"]["http1MaxPendingRequests"] > 0
    for store in ("agentplatform-postgres", "agentplatform-redis"):
        policy = found[("DestinationRule", store)]["spec"]["trafficPolicy"]
        assert policy["connectionPool"]["tcp"]["maxConnections"] > 0
        assert "outlierDetection" not in policy  # one pod: nowhere else to send


def _route(routes: list[Doc], method: str, path: str) -> Doc:
    """The route Istio takes: the first whose match (any of its entries) fits."""

    def fits(match: Doc) -> bool:
        uri, verb = match.get("uri", {}), match.get("method", {})
        if "exact" in uri and path != uri["exact"]:
            return False
        if "prefix" in uri and not path.startswith(uri["prefix"]):
            return False
        if "regex" in uri and not re.fullmatch(uri["regex"], path):
            return False
        if "exact" in verb and method != verb["exact"]:
            return False
        return not ("regex" in verb and not re.fullmatch(verb["regex"], method))

    return next(r for r in routes if not r.get("match") or any(fits(m) for m in r["match"]))


def test_only_reads_are_retried_and_streams_never_time_out() -> None:
    found = index(render("production"))
    service = found[("VirtualService", "agentplatform")]["spec"]
    assert service["hosts"] == ["agentplatform"]
    routes = service["http"]
    start_run = _route(routes, "POST", "/api/runs")
    assert start_run["retries"]["attempts"] == 0
    for method, path in [("GET", "/api/runs/1b2c/events"), ("GET", "/_event/")]:
        stream = _route(routes, method, path)
        assert stream["timeout"] == "0s" and stream["retries"]["attempts"] == 0
    read = _route(routes, "GET", "/api/agents")
    assert read["retries"]["attempts"] >= 1 and read["timeout"] != "0s"
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        assert _route(routes, method, "/api/agents/1")["retries"]["attempts"] == 0, method
    for route in routes:
        if route["retries"]["attempts"]:  # every retrying route matches reads only
            methods = [m["method"]["regex"] for m in route["match"]]
            assert all(set(m.split("|")) <= {"GET", "HEAD"} for m in methods)


def test_mesh_sidecars_start_before_the_migration_and_jobs_can_end() -> None:
    docs = render("production")
    for doc in docs:
        if doc["kind"] in {"Deployment", "CronJob"} and "redis" not in doc["metadata"]["name"]:
            annotations = pod_template(doc)["metadata"].get("annotations", {})
            assert annotations.get("sidecar.istio.io/nativeSidecar") == "true", doc["metadata"]
    config = index(docs)[("ConfigMap", "agentplatform-config")]["data"]
    assert "127.0.0.6/32" in config["TRUSTED_PROXIES"].split(",")  # the sidecar is the peer
    for ingress in of_kind(docs, "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/service-upstream"] == "true"
        vhost = annotations["nginx.ingress.kubernetes.io/upstream-vhost"]
        assert vhost == f"agentplatform.{NAMESPACE}.svc.cluster.local"
