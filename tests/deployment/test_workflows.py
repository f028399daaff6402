"""GitHub Actions and Dependabot: valid files, pinned actions, least privilege, drift caught."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

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
    assert {("uv", "/"), ("github-actions", "/"), ("npm", "/reflex.lock"), ("docker", "/")} <= (
        watched
    )


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
