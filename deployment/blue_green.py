"""Release the app to Kubernetes: blue-green for production, a rolling apply for staging.

    blue_green.py -n agentplatform deploy --overlay deployment/k8s/overlays/production \
        --image REGISTRY/agentplatform@sha256:...
    blue_green.py -n agentplatform switch      # to the other colour (a rollback), same checks
    blue_green.py -n agentplatform status
    blue_green.py -n agentplatform-staging apply --overlay deployment/k8s/overlays/staging \
        --image ...                            # one colour, rolling update, then a smoke test

`deploy` reads the live colour from the `agentplatform` Service and applies the overlay with the
live colour, its image and the workers' image kept as they are, and only the idle colour on the
new image (so re-applying never moves traffic). It waits for the idle colour's rollout (its init
container migrates the schema first: migrations must keep the live, older release working),
refuses to switch unless every pod of it is ready on the new image, smoke-tests it through the
`agentplatform-preview` Service, switches the Service's selector, smoke-tests again through the
live Service and switches back if that fails; then it moves the workers to the new image
(rolled back, with traffic, if they do not come up). Credentials for the smoke test: see
smoke_test.py. Standard library and kubectl only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_test import smoke_test

SERVICE, PREVIEW, WORKER = "agentplatform", "agentplatform-preview", "agentplatform-worker"
COLOURS = ("blue", "green")


class ReleaseFailed(Exception):
    """The release stopped; the message says where and what state traffic is in."""


def say(message: str) -> None:
    sys.stdout.write(f"blue-green: {message}\n")
    sys.stdout.flush()


class Cluster:
    def __init__(self, namespace: str, timeout: int) -> None:
        self.namespace, self.timeout = namespace, timeout

    def kubectl(self, *args: str) -> str:
        done = subprocess.run(
            ["kubectl", "--namespace", self.namespace, *args],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ReleaseFailed(f"kubectl {' '.join(args[:3])}: {done.stderr.strip()}")
        return done.stdout

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        out = self.kubectl("get", kind, name, "--ignore-not-found", "--output", "json")
        return json.loads(out) if out.strip() else None

    def live_colour(self) -> str | None:
        service = self.get("service", SERVICE)
        return None if service is None else str(service["spec"]["selector"]["colour"])

    def image(self, deployment: str) -> str:
        found = self.get("deployment", deployment)
        if found is None:
            raise ReleaseFailed(f"deployment {deployment} does not exist")
        return str(found["spec"]["template"]["spec"]["containers"][0]["image"])

    def not_ready(self, deployment: str, image: str) -> str | None:
        """Why the Deployment is not fully ready on `image` (None when it is)."""
        found = self.get("deployment", deployment) or {}
        spec, status = found.get("spec", {}), found.get("status", {})
        want = spec.get("replicas", 1)
        running = spec.get("template", {}).get("spec", {}).get("containers", [{}])[0].get("image")
        if running != image:
            return f"{deployment} runs {running}, not {image}"
        counts = [status.get(key, 0) for key in ("readyReplicas", "updatedReplicas")]
        if status.get("observedGeneration", 0) < found.get("metadata", {}).get("generation", 1):
            return f"{deployment}: the controller has not seen its latest spec"
        if min(counts) < want:
            return f"{deployment}: {counts[0]}/{want} pods ready on the new image"
        return None

    def rollout(self, kind: str, name: str) -> None:
        self.kubectl("rollout", "status", f"{kind}/{name}", f"--timeout={self.timeout}s")

    def point(self, service: str, colour: str) -> None:
        patch = json.dumps({"spec": {"selector": {"colour": colour}}})
        self.kubectl("patch", "service", service, "--type", "merge", "--patch", patch)

    @contextlib.contextmanager
    def forward(self, service: str) -> Iterator[str]:
        """A local URL to the Service, through `kubectl port-forward` (no ingress involved)."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = ["kubectl", "--namespace", self.namespace, "port-forward", f"service/{service}"]
        process = subprocess.Popen(
            [*command, f"{port}:80", "--address", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not _listening(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ReleaseFailed(f"kubectl port-forward to service/{service} failed")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def release_kustomization(
    overlay: Path, directory: Path, images: dict[str, str], live: str
) -> Path:
    """A kustomization of the overlay that pins each Deployment's image and the live colour."""
    patches = []
    for deployment, image in images.items():
        operations = [
            {"op": "replace", "path": f"/spec/template/spec/{part}/0/image", "value": image}
            for part in ("initContainers", "containers")
        ]
        patches.append({"target": {"kind": "Deployment", "name": deployment}, "patch": operations})
    idle = other(live)
    for service, colour in ((SERVICE, live), (PREVIEW, idle)):
        operation = {"op": "replace", "path": "/spec/selector/colour", "value": colour}
        patches.append({"target": {"kind": "Service", "name": service}, "patch": [operation]})
    for patch in patches:
        patch["patch"] = json.dumps(patch["patch"])
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(overlay.resolve(), directory.resolve())],
        "patches": patches,
    }
    (directory / "kustomization.yaml").write_text(json.dumps(kustomization, indent=2))
    return directory


def other(colour: str) -> str:
    return COLOURS[1 - COLOURS.index(colour)]


def app(colour: str) -> str:
    return f"agentplatform-app-{colour}"


def apply(cluster: Cluster, overlay: Path, images: dict[str, str], live: str) -> None:
    with tempfile.TemporaryDirectory(prefix="agentplatform-release-") as directory:
        release_kustomization(overlay, Path(directory), images, live)
        cluster.kubectl("apply", "--kustomize", directory)


def smoke_through(cluster: Cluster, service: str) -> bool:
    with cluster.forward(service) as url:
        return smoke_test(url)


def switch_to(cluster: Cluster, colour: str, image: str) -> None:
    """Switch traffic to `colour` once it proved itself; back to the old one if it fails live."""
    previous = other(colour)
    reason = cluster.not_ready(app(colour), image)
    if reason:
        raise ReleaseFailed(
            f"refusing to switch to {colour}: {reason}; traffic stays on {previous}"
        )
    say(f"smoke test of {colour} through {PREVIEW}")
    if not smoke_through(cluster, PREVIEW):
        raise ReleaseFailed(f"{colour} failed its smoke test; traffic stays on {previous}")
    say(f"switching {SERVICE} from {previous} to {colour}")
    cluster.point(SERVICE, colour)
    cluster.point(PREVIEW, previous)
    say(f"smoke test of {colour} through {SERVICE}")
    if not smoke_through(cluster, SERVICE):
        cluster.point(SERVICE, previous)
        cluster.point(PREVIEW, colour)
        raise ReleaseFailed(f"{colour} failed once live: switched back to {previous}")


def deploy(cluster: Cluster, overlay: Path, image: str) -> None:
    live = cluster.live_colour()
    if live is None:
        say("first install: every Deployment on the new image, blue live")
        apply(cluster, overlay, {app("blue"): image, app("green"): image, WORKER: image}, "blue")
        for name in (app("blue"), WORKER):
            cluster.rollout("deployment", name)
        if not smoke_through(cluster, SERVICE):
            raise ReleaseFailed("the first install failed its smoke test")
        return
    idle = other(live)
    images = {app(live): cluster.image(app(live)), app(idle): image, WORKER: cluster.image(WORKER)}
    say(f"live: {live} ({images[app(live)]}); rolling {idle} to {image}")
    apply(cluster, overlay, images, live)
    try:
        cluster.rollout("deployment", app(idle))
    except ReleaseFailed as error:
        message = f"refusing to switch to {idle}: {error}; traffic stays on {live}"
        raise ReleaseFailed(message) from None
    switch_to(cluster, idle, image)
    say(f"moving the workers to {image}")
    cluster.kubectl("set", "image", f"deployment/{WORKER}", f"worker={image}", f"migrate={image}")
    try:
        cluster.rollout("deployment", WORKER)
    except ReleaseFailed:
        cluster.kubectl("rollout", "undo", f"deployment/{WORKER}")
        cluster.point(SERVICE, live)
        cluster.point(PREVIEW, idle)
        message = f"the workers did not start on {image}: rolled back to {live}"
        raise ReleaseFailed(message) from None
    say(f"done: {idle} is live on {image}; {live} stays up for a quick switch back")


def rolling_apply(cluster: Cluster, overlay: Path, image: str) -> None:
    """One colour, rolling update (staging): apply, wait, smoke-test through the Service."""
    apply(cluster, overlay, {app("blue"): image, WORKER: image}, "blue")
    for name in (app("blue"), WORKER):
        cluster.rollout("deployment", name)
    if not smoke_through(cluster, SERVICE):
        raise ReleaseFailed(f"{image} is rolled out but failed its smoke test")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="blue_green.py", description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--namespace", required=True)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per rollout")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("deploy", "apply"):
        command = commands.add_parser(name)
        command.add_argument("--overlay", type=Path, required=True)
        command.add_argument("--image", required=True)
    commands.add_parser("switch")
    commands.add_parser("status")
    args = parser.parse_args(argv)
    cluster = Cluster(args.namespace, args.timeout)
    try:
        if args.command == "deploy":
            deploy(cluster, args.overlay, args.image)
        elif args.command == "apply":
            rolling_apply(cluster, args.overlay, args.image)
        else:
            live = cluster.live_colour()
            if live is None:
                raise ReleaseFailed(f"no service/{SERVICE} in {args.namespace}")
            if args.command == "switch":
                switch_to(cluster, other(live), cluster.image(app(other(live))))
                live = other(live)
            say(f"live: {live} ({cluster.image(app(live))})")
    except ReleaseFailed as failure:
        say(f"FAILED: {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
