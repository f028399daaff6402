"""The NetworkPolicy graph of each overlay: who may open a connection to whom, on which port.

A small evaluator applies Kubernetes' rules to the rendered policies (a pod selected by no
policy of a direction is open in it; otherwise a connection needs a rule allowing it on both
ends) for the pods the overlay runs and for the neighbours that matter: the ingress
controller, Prometheus, KEDA, an unlabelled pod in the namespace, a pod in another namespace,
the cluster DNS, and addresses outside the cluster.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.deployment.k8s_support import NAMESPACES, OVERLAYS, of_kind, pod_template, render

Doc = dict[str, Any]


@dataclass(frozen=True)
class Peer:
    name: str
    namespace: str | None  # None: outside the cluster
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str = "10.8.0.99"


def _matches(selector: Doc | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        present, value = expression["key"] in labels, labels.get(expression["key"])
        operator, values = expression["operator"], expression.get("values", [])
        if (operator == "In" and value not in values) or (operator == "NotIn" and value in values):
            return False
        if (operator == "Exists") != present and operator in {"Exists", "DoesNotExist"}:
            return False
    return True


def _peer_matches(rule_peer: Doc, peer: Peer, own_namespace: str) -> bool:
    if "ipBlock" in rule_peer:
        if peer.namespace is not None:
            return False  # pods are matched by selectors here, not by their address
        block = rule_peer["ipBlock"]
        address = ipaddress.ip_address(peer.ip)
        inside = address in ipaddress.ip_network(block["cidr"], strict=False)
        excluded = any(
            address in ipaddress.ip_network(cidr, strict=False) for cidr in block.get("except", [])
        )
        return inside and not excluded
    if peer.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        ns_labels = {"kubernetes.io/metadata.name": peer.namespace}
        if not _matches(rule_peer["namespaceSelector"], ns_labels):
            return False
    elif peer.namespace != own_namespace:
        return False
    return _matches(rule_peer.get("podSelector"), peer.labels)


def _port_matches(ports: list[Doc] | None, port: int, protocol: str) -> bool:
    return ports is None or any(
        p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports
    )


class Graph:
    def __init__(self, docs: list[Doc], namespace: str) -> None:
        self.policies = of_kind(docs, "NetworkPolicy")
        self.namespace = namespace

    def _allowed(self, pod: Peer, other: Peer, port: int, protocol: str, direction: str) -> bool:
        """Whether `pod` (in our namespace) lets `other` in (Ingress) or itself out (Egress)."""
        if pod.namespace != self.namespace:
            return True  # not ours: its own namespace's policies (none modelled) decide
        selecting = [
            p
            for p in self.policies
            if direction in p["spec"]["policyTypes"]
            and _matches(p["spec"]["podSelector"], pod.labels)
        ]
        if not selecting:
            return True
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in selecting:
            for rule in policy["spec"].get(key, []):
                peers = rule.get(peers_key)
                if not _port_matches(rule.get("ports"), port, protocol):
                    continue
                if peers is None or any(_peer_matches(p, other, self.namespace) for p in peers):
                    return True
        return False

    def can_reach(self, source: Peer, target: Peer, port: int, protocol: str = "TCP") -> bool:
        return self._allowed(source, target, port, protocol, "Egress") and self._allowed(
            target, source, port, protocol, "Ingress"
        )


def _pods(docs: list[Doc], namespace: str) -> dict[str, Peer]:
    pods = {}
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "CronJob"}:
            labels = pod_template(doc)["metadata"]["labels"]
            pods[doc["metadata"]["name"]] = Peer(doc["metadata"]["name"], namespace, labels)
    return pods


def _world(overlay: str) -> tuple[Graph, dict[str, Peer]]:
    namespace = NAMESPACES[overlay]
    docs = render(overlay)
    pods = _pods(docs, namespace)
    pods.update(
        ingress=Peer("ingress", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        prometheus=Peer("prometheus", "monitoring", {"app.kubernetes.io/name": "prometheus"}),
        keda=Peer("keda", "keda", {"app.kubernetes.io/name": "keda-operator"}),
        dns=Peer("dns", "kube-system", {"k8s-app": "kube-dns"}),
        intruder=Peer("intruder", namespace, {"app": "debug-shell"}),
        neighbour=Peer("neighbour", "other-team", {"app.kubernetes.io/component": "app"}),
        internet=Peer("internet", None, ip="203.0.113.7"),
        private=Peer("private", None, ip="10.20.30.40"),
        metadata=Peer("metadata", None, ip="169.254.169.254"),
    )
    return Graph(docs, namespace), pods


APP = "agentplatform-app-blue"
WORKER = "agentplatform-worker"
POSTGRES = "agentplatform-postgres"
REDIS = "agentplatform-redis"
BACKUP = "agentplatform-backup"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_ingress_controller_and_prometheus_reach_the_app(overlay: str) -> None:
    graph, pods = _world(overlay)
    apps = [p for name, p in pods.items() if name.startswith("agentplatform-app")]
    reachers = {
        source
        for source, peer in pods.items()
        for app in apps
        if peer not in apps and graph.can_reach(peer, app, 3000)
    }
    assert reachers == {"ingress", "prometheus"}
    assert not any(graph.can_reach(pods["ingress"], app, 5432) for app in apps)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_app_workers_and_backups_reach_the_data_stores(overlay: str) -> None:
    graph, pods = _world(overlay)
    postgres = {name for name, p in pods.items() if graph.can_reach(p, pods[POSTGRES], 5432)}
    assert postgres - {POSTGRES} == {*_apps(pods), WORKER, BACKUP}
    redis = {name for name, p in pods.items() if graph.can_reach(p, pods[REDIS], 6379)}
    keda = {"keda"} if overlay == "production" else set()  # KEDA reads the queue length
    assert redis - {REDIS} == {*_apps(pods), WORKER, *keda}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_reach_llm_providers_outside_and_nothing_private(overlay: str) -> None:
    graph, pods = _world(overlay)
    assert graph.can_reach(pods[WORKER], pods["internet"], 443)
    assert not graph.can_reach(pods[WORKER], pods["private"], 443)
    assert not graph.can_reach(pods[WORKER], pods["metadata"], 80)  # cloud credentials
    for name in (POSTGRES, REDIS, BACKUP):
        assert not graph.can_reach(pods[name], pods["internet"], 443), name
    assert not any(graph.can_reach(p, pods[WORKER], 3000) for p in pods.values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_resolves_names_and_nothing_else_is_open_by_default(overlay: str) -> None:
    graph, pods = _world(overlay)
    ours = [p for p in pods.values() if p.namespace == NAMESPACES[overlay]]
    for pod in ours:
        assert graph.can_reach(pod, pods["dns"], 53, "UDP"), pod.name
    assert not graph.can_reach(pods["intruder"], pods["internet"], 443)
    assert not graph.can_reach(pods["neighbour"], pods[APP], 3000)


def _apps(pods: dict[str, Peer]) -> set[str]:
    return {name for name in pods if name.startswith("agentplatform-app")}
