"""GitHub Actions and Dependabot: valid files, pinned actions, least privilege, drift caught."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _check(schema: str, path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{path.name}:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_validate_pin_actions_and_read_only_by_default(path: Path) -> None:
    _check("vendor.github-workflows", path)
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {"contents": "read"}, "least privilege at the top"
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False


def test_dependabot_watches_every_lock() -> None:
    path = ROOT / ".github" / "dependabot.yml"
    _check("vendor.dependabot", path)
    updates = yaml.safe_load(path.read_text())["updates"]
    watched = {(u["package-ecosystem"], u["directory"]) for u in updates}
    assert {
        ("uv", "/"),
        ("uv", "/deployment/scanners"),
        ("github-actions", "/"),
        ("npm", "/reflex.lock"),
        ("docker", "/"),
    } <= watched


def test_a_scheduled_job_tests_the_newest_allowed_versions_and_reports_a_break() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "dependency-drift.yml").read_text())
    assert workflow[True]["schedule"], "runs on a schedule"  # YAML reads `on:` as True
    (job,) = workflow["jobs"].values()
    commands = [step.get("run", "") for step in job["steps"]]
    lock = next(i for i, c in enumerate(commands) if "make lock" in c)
    test = next(i for i, c in enumerate(commands) if c.strip() == "make test")
    assert lock < test, "resolves the newest versions, then tests them"
    report = job["steps"][-1]
    assert "failure()" in report["if"] and "gh issue create" in report["run"]
    assert job["permissions"]["issues"] == "write"


def test_make_lock_upgrades_and_installs_come_only_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lock:.*\n(\t.*\n)*\t\$\(UV\) lock --upgrade", makefile, re.M)
    syncs = re.findall(r"\$\(UV\) sync [^\n]*", makefile)
    assert syncs and all("--locked" in line for line in syncs), syncs
    assert "pip install -e" not in makefile


def _workflow(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    return data


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_zizmor_finds_nothing_of_high_severity_in_the_workflows() -> None:
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", str(ROOT / ".github" / "workflows")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    findings = json.loads(done.stdout)
    high = [f for f in findings if f["determinations"]["severity"] == "High"]
    assert not high, json.dumps(high, indent=1)[:3000]


def test_no_workflow_runs_untrusted_code_with_secrets_or_expands_secrets_in_scripts() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert "pull_request_target" not in workflow[True], path.name
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                assert "${{" not in step.get("run", ""), f"{path.name}: use env, not ${{{{ }}}}"


def test_ci_runs_the_suite_the_security_gates_and_the_image_with_an_sbom() -> None:
    jobs = _workflow("ci.yml")["jobs"]
    assert "make test" in _runs(jobs["test"])
    assert set(jobs["test"]["services"]) == {"postgres", "redis"}
    security = _runs(jobs["security"])
    for gate in (
        "pip-audit",
        "--require-hashes",
        "bandit",
        "--framework secrets",
        "--framework kubernetes",
        "--framework dockerfile",
        "zizmor --offline",
    ):
        assert gate in security, gate
    image = jobs["image"]
    assert _uses(image)[-3:] == [
        "docker/build-push-action",
        "anchore/sbom-action",
        "anchore/scan-action",
    ]
    scan = image["steps"][-1]["with"]
    assert scan["fail-build"] is True and scan["severity-cutoff"] == "high"
    coverage = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]
    assert coverage["report"]["fail_under"] >= 80


def test_cd_pushes_then_stages_then_releases_blue_green_behind_an_approval() -> None:
    workflow = _workflow("cd.yml")
    assert workflow[True]["push"] == {"branches": ["main"], "tags": ["v*"]}
    jobs = workflow["jobs"]
    build = next(s for s in jobs["image"]["steps"] if s.get("id") == "build")["with"]
    assert build["push"] is True and build["sbom"] is True
    assert "blue_green.py --namespace agentplatform-staging apply" in _runs(jobs["staging"])
    production = jobs["production"]
    assert set(production["needs"]) == {"image", "staging"}
    assert production["environment"] == "production"
    assert "blue_green.py --namespace agentplatform deploy" in _runs(production)
    assert workflow[True]["schedule"] and "bench.run_all" in _runs(jobs["bench"])
    assert _uses(jobs["bench"])[-1] == "actions/upload-artifact"
