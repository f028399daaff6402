"""Render the kustomize overlays with Debian's `kubectl` and look things up in what they apply."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deployment" / "k8s"
OVERLAYS = ("staging", "production")
NAMESPACES = {"staging": "agentplatform-staging", "production": "agentplatform"}
# The oldest Kubernetes the manifests target (native sidecars, the preStop sleep action,
# CronJob timeZone) and a recent one (nothing they use was removed).
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")
Doc = dict[str, Any]


def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        raise RuntimeError("the Kubernetes tests render with kubectl: apt-get install kubectl")
    return found


def render_dir(path: Path) -> list[Doc]:
    """`kubectl kustomize PATH`, parsed."""
    done = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {path} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@cache
def _rendered(overlay: str) -> tuple[str, ...]:
    return tuple(yaml.safe_dump(doc) for doc in render_dir(K8S / "overlays" / overlay))


def render(overlay: str) -> list[Doc]:
    """The overlay's resources (a fresh copy each call: tests may change what they get)."""
    return [yaml.safe_load(text) for text in _rendered(overlay)]


def index(docs: list[Doc]) -> dict[tuple[str, str], Doc]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] == kind]


def pod_template(doc: Doc) -> Doc:
    """The pod template of a Deployment, StatefulSet, Job or CronJob."""
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template: Doc = spec["template"]
    return template


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")


def workloads(docs: list[Doc]) -> list[Doc]:
    return [doc for doc in docs if doc["kind"] in WORKLOAD_KINDS]


def all_containers(pod_spec: Doc) -> list[Doc]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def documents(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def scanners_bin(name: str) -> Path:
    """A tool of the scanners' environment (.venv/.scanners: checkov, pip-audit, CRD models)."""
    path = Path(sys.executable).parent.parent / ".scanners" / "bin" / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make .venv/.installed-scanners`")
    return path


def check_custom_resources(docs: list[Doc], directory: Path) -> None:
    """The Istio, Prometheus Operator and KEDA objects against their CRDs' models."""
    rendered = directory / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    script = ROOT / "deployment" / "scanners" / "validate_custom_resources.py"
    done = subprocess.run(
        [str(scanners_bin("python")), str(script), str(rendered)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}{done.stderr}"


def compose(directory: Path, overlay: str, components: list[str]) -> Path:
    """A kustomization in `directory` of an overlay plus extra components (as a team would)."""
    directory.mkdir(parents=True, exist_ok=True)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(K8S / "overlays" / overlay, directory)],
        "components": [
            os.path.relpath(K8S / "components" / name, directory) for name in components
        ],
    }
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return directory
