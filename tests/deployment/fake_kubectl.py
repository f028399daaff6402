"""A fake `kubectl` for the blue-green tests: it records every call and keeps a small cluster.

The state is a JSON file (FAKE_KUBECTL_STATE): Services' colours, Deployments' images and ready
counts, and per colour the URL of a fake app. `apply --kustomize` renders the directory with
the real kubectl (REAL_KUBECTL) and takes its images and selectors; `port-forward` forwards a
local port to the fake app of the colour the Service selects, as kubectl would to a pod.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

STATE = Path(os.environ["FAKE_KUBECTL_STATE"])


def load() -> dict[str, Any]:
    state: dict[str, Any] = json.loads(STATE.read_text())
    return state


def save(state: dict[str, Any]) -> None:
    partial = STATE.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=1))
    partial.replace(STATE)


def deployment_json(name: str, found: dict[str, Any]) -> dict[str, Any]:
    ready = found["ready"]
    return {
        "metadata": {"name": name, "generation": 2},
        "spec": {
            "replicas": found["replicas"],
            "template": {"spec": {"containers": [{"name": "app", "image": found["image"]}]}},
        },
        "status": {"observedGeneration": 2, "readyReplicas": ready, "updatedReplicas": ready},
    }


def apply(state: dict[str, Any], directory: str) -> None:
    rendered = subprocess.run(
        [os.environ["REAL_KUBECTL"], "kustomize", directory],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    applied: dict[str, Any] = {"deployments": {}, "services": {}}
    for doc in yaml.safe_load_all(rendered):
        name = doc["metadata"]["name"]
        if doc["kind"] == "Deployment" and name in state["deployments"]:
            spec = doc["spec"]["template"]["spec"]
            images = {c["image"] for c in [*spec.get("initContainers", []), *spec["containers"]]}
            assert len(images) == 1, f"{name}: init and main containers differ: {images}"
            [image] = images
            found = state["deployments"][name]
            if found["image"] != image:
                found["ready"] = state.get("ready_after_apply", {}).get(name, found["replicas"])
            found["image"] = image
            applied["deployments"][name] = image
        if doc["kind"] == "Service" and "colour" in doc["spec"]["selector"]:
            state["services"][name] = doc["spec"]["selector"]["colour"]
            applied["services"][name] = doc["spec"]["selector"]["colour"]
    state["applied"].append(applied)


def forward(state: dict[str, Any], target: str, ports: str) -> None:
    """Listen on the local port; pipe each connection to the selected colour's fake app."""
    colour = state["services"][target.split("/", 1)[1]]
    backend = urlsplit(state["backends"][colour])
    listener = socket.create_server(("127.0.0.1", int(ports.split(":")[0])))

    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    print(f"Forwarding from 127.0.0.1:{ports.split(':')[0]} -> 80", flush=True)
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((backend.hostname, backend.port))
        threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()


def main(args: list[str]) -> int:
    if args[:1] == ["--namespace"]:
        args = args[2:]
    state = load()
    state["calls"].append(args)
    save(state)
    verb = args[0]
    if verb == "get":
        kind, name = args[1], args[2]
        if kind == "service" and name in state["services"]:
            selector = {"app.kubernetes.io/component": "app", "colour": state["services"][name]}
            print(json.dumps({"spec": {"selector": selector}}))
        elif kind == "deployment" and name in state["deployments"]:
            print(json.dumps(deployment_json(name, state["deployments"][name])))
        return 0
    if verb == "apply":
        apply(state, args[args.index("--kustomize") + 1])
    elif verb == "rollout" and args[1] == "status":
        if args[2].split("/", 1)[1] in state.get("rollout_fails", []):
            print(f"error: timed out waiting for {args[2]}", file=sys.stderr)
            return 1
    elif verb == "rollout" and args[1] == "undo":
        found = state["deployments"][args[2].split("/", 1)[1]]
        found["image"] = found.pop("previous", found["image"])
    elif verb == "patch":
        patch = json.loads(args[args.index("--patch") + 1])
        state["services"][args[2]] = patch["spec"]["selector"]["colour"]
    elif verb == "set" and args[1] == "image":
        found = state["deployments"][args[2].split("/", 1)[1]]
        images = {pair.split("=", 1)[1] for pair in args[3:]}
        found["previous"], found["image"] = found["image"], images.pop()
    elif verb == "port-forward":
        forward(state, args[1], args[2])
    else:
        print(f"fake kubectl: unexpected {args}", file=sys.stderr)
        return 2
    save(state)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
