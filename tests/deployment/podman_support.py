"""Podman on this machine: build and run the real image with no registry in reach.

The Dockerfile starts `FROM python:3.11-slim-bookworm`, which no registry here can serve, so a
stand-in with the same name is made once with debootstrap (Debian 12: Python 3.11, as the
official image) and imported into Podman's store, carrying this machine's CA bundle so that
pip, uv and npm reach the package registries through its TLS proxy. The Dockerfile itself is
built as it is. crun fails here (rlimits, hybrid cgroups): runc, with no default ulimits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
APT_PACKAGES = ("podman", "runc", "debootstrap")


def _containers_conf() -> Path:
    path = Path(tempfile.gettempdir()) / "agentplatform-tests-containers.conf"
    if not path.exists():
        path.write_text("[containers]\ndefault_ulimits = []\n")
    return path


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(_containers_conf())}


def podman(
    *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run `podman --runtime runc ARGS`, raising with its output when it fails."""
    done = subprocess.run(
        ["podman", "--runtime", "runc", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"podman {' '.join(args[:3])} failed ({done.returncode}):\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
    return done


def ensure_podman() -> None:
    """Podman, runc and debootstrap from Debian's packages (installed when root can)."""
    missing = [name for name in ("podman", "runc", "debootstrap") if not _which(name)]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *APT_PACKAGES],
            env=env,
            check=True,
            capture_output=True,
        )
    still = [name for name in ("podman", "runc", "debootstrap") if not _which(name)]
    if still:
        raise RuntimeError(
            f"the image tests need {', '.join(still)}: "
            f"sudo apt-get install {' '.join(APT_PACKAGES)}"
        )


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def ensure_base_image() -> None:
    """The stand-in for python:3.11-slim-bookworm, made once (about 2 minutes, 300 MB)."""
    if podman("image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory(prefix="agentplatform-rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(
            [
                _which("debootstrap") or "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip,ca-certificates",
                "bookworm",
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            check=True,
            capture_output=True,
            timeout=1200,
        )
        (rootfs / "usr" / "bin" / "python").symlink_to("python3")
        shutil.copyfile(CA_BUNDLE, rootfs / "etc" / "ssl" / "certs" / "ca-certificates.crt")
        bundle = "/etc/ssl/certs/ca-certificates.crt"
        changes = [f"ENV {name}={bundle}" for name in ("SSL_CERT_FILE", "PIP_CERT")]
        changes += [f"ENV NODE_EXTRA_CA_CERTS={bundle}", 'CMD ["python3"]']
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        arguments = ["podman", "--runtime", "runc", "import"]
        for change in changes:
            arguments += ["--change", change]
        imported = subprocess.run(
            [*arguments, "-", BASE_IMAGE],
            stdin=tar.stdout,
            env=podman_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        tar.wait()
        if imported.returncode != 0:
            raise RuntimeError(f"podman import failed:\n{imported.stderr[-3000:]}")
