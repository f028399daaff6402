"""checkov, the policy scanner: no finding on the rendered overlays, the Dockerfile, the workflows
or in a secret scan of the repository, apart from the skips deployment/scanners/checkov.yaml
explains (global) and the resources' own checkov.io/skip annotations (one resource each).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import TEST_DB
from tests.deployment.k8s_support import K8S, OVERLAYS, ROOT, render, scanners_bin

pytestmark = pytest.mark.skipif(
    TEST_DB != "sqlite", reason="no database involved: runs once, in the SQLite pass"
)
CONFIG = ROOT / "deployment" / "scanners" / "checkov.yaml"
# Resources whose annotation skips one check, with the reason beside it in the manifest.
ANNOTATED_SKIPS = {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_21"}


def _checkov(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(scanners_bin("checkov")), "--config-file", str(CONFIG), "-o", "json", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )  # fmt: skip
    assert done.stdout.strip(), f"checkov printed nothing:\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout)
    reports: list[dict[str, Any]] = report if isinstance(report, list) else [report]
    return reports


def _failures(reports: list[dict[str, Any]]) -> list[str]:
    return [
        f"{check['check_id']} {check['resource']} ({check['file_path']}): {check['check_name']}"
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    ]


def test_the_rendered_manifests_pass_every_kubernetes_policy(tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(render(overlay)))
    (tmp_path / "restore-job.yaml").write_text((K8S / "restore-job.yaml").read_text())
    reports = _checkov("-d", str(tmp_path), "--framework", "kubernetes")
    assert not _failures(reports)
    assert reports[0]["summary"]["passed"] > 500
    skipped = {check["check_id"] for check in reports[0]["results"]["skipped_checks"]}
    assert skipped <= ANNOTATED_SKIPS | set(yaml.safe_load(CONFIG.read_text())["skip-check"])


def test_the_dockerfile_and_the_workflows_pass_their_policies() -> None:
    dockerfile = _checkov("-f", "Dockerfile", "--framework", "dockerfile")
    workflows = _checkov("-d", ".github/workflows", "--framework", "github_actions")
    assert not _failures(dockerfile) and not _failures(workflows)
    assert dockerfile[0]["summary"]["passed"] and workflows[0]["summary"]["passed"]


def test_no_secret_is_committed() -> None:
    skip = [".venv", ".web", ".states", "node_modules", "data", ".git"]
    args = [arg for path in skip for arg in ("--skip-path", path)]
    reports = _checkov("-d", ".", "--framework", "secrets", *args)
    assert not _failures(reports)
