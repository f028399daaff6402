"""Validate the custom resources of rendered manifests against models of their CRDs.

kubernetes-validate knows the built-in kinds only; the Istio, Prometheus Operator and KEDA
objects are checked here against models generated from those projects' CRDs (cloudcoil):
types, enums and required fields, and no field the CRD does not define (a typo is silently
dropped by the API server otherwise). Built-in kinds are skipped; an unknown API is an error.
    python validate_custom_resources.py RENDERED.yaml [...]
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

MODELS = {
    "security.istio.io/v1": "cloudcoil.models.istio.security.v1",
    "networking.istio.io/v1": "cloudcoil.models.istio.networking.v1",
    "monitoring.coreos.com/v1": "cloudcoil.models.prometheus_operator.v1",
    "keda.sh/v1alpha1": "cloudcoil.models.keda.v1alpha1",
}


def is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def unknown_fields(given: Any, kept: Any, path: str = "") -> list[str]:
    """Fields of `given` that the model dropped, so the CRD does not define them."""
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return [path or "/"]
        found = []
        for key, value in given.items():
            here = f"{path}.{key}"
            found += [here] if key not in kept else unknown_fields(value, kept[key], here)
        return found
    if isinstance(given, list) and isinstance(kept, list):
        pairs = enumerate(zip(given, kept, strict=False))
        return [field for i, (g, k) in pairs for field in unknown_fields(g, k, f"{path}[{i}]")]
    return []


def problems(doc: dict[str, Any]) -> list[str]:
    """What is wrong with one object (nothing for built-in kinds)."""
    api, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    if is_builtin(api):
        return []
    name = f"{kind} {doc.get('metadata', {}).get('name', '?')}"
    if api not in MODELS:
        return [f"{name}: no model for {api} (add its CRD models to deployment/scanners)"]
    model = getattr(importlib.import_module(MODELS[api]), kind, None)
    if model is None:
        return [f"{name}: {api} has no kind {kind}"]
    try:
        kept = model.model_validate(doc).model_dump(mode="json", by_alias=True, exclude_unset=True)
    except ValidationError as error:
        return [f"{name}: {line}" for line in str(error).splitlines()[1:] if line.strip()]
    return [f"{name}: unknown field {field}" for field in unknown_fields(doc, kept)]


def main(paths: list[str]) -> int:
    found, checked = [], 0
    for path in paths:
        for doc in yaml.safe_load_all(Path(path).read_text()):
            if doc and not is_builtin(doc.get("apiVersion", "")):
                checked += 1
            found += problems(doc) if doc else []
    for line in found:
        sys.stdout.write(f"{line}\n")
    sys.stdout.write(f"{checked} custom resources checked, {len(found)} problems\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
