# ruff: noqa: RUF001
"""Shared helpers of the benchmarks: machine facts, child processes, tables, the doc.

Nothing here imports `agentplatform`: each benchmark sets its environment (DATABASE_URL,
DATA_DIR, SECRET_KEY, ...) first and imports the package afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF"
PASSWORD = "Bench-horse-battery-42!"

# Order of the sections in docs/benchmarks.md.
SECTIONS = ("api", "engine", "frontend")
TITLES = {
    "api": "REST API throughput and latency (issue 3)",
    "engine": "Engine: orchestration overhead, concurrency, memory (issue 4)",
    "frontend": "Frontend: build size and dashboard first load (issue 5)",
}


# --- machine -------------------------------------------------------------------------
def _git(*args: str) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _mem_total_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Facts to print next to every figure: the machine is shared, so the load matters."""
    sha = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git": sha + (" (+ uncommitted changes)" if dirty else ""),
        "nproc": os.cpu_count() or 0,
        "cpu": _cpu_model(),
        "mem_gib": round(_mem_total_gib(), 1),
        "python": platform.python_version(),
        "load": os.getloadavg(),
    }


def load_text(load: Sequence[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def run_line(info: Mapping[str, Any], extra: str = "") -> str:
    """One line saying when and on what a section's figures were taken."""
    line = (
        f"Measured {info['date']} at git `{info['git']}`; "
        f"{info['nproc']} CPUs, {info['mem_gib']} GiB, Python {info['python']}; "
        f"**load average at start {load_text(info['load'])}** (1/5/15 min)"
    )
    return line + (f"; {extra}" if extra else "") + "."


def print_header(name: str, info: Mapping[str, Any]) -> None:
    print(f"== {name} ==")
    print(run_line(info))


# --- numbers -------------------------------------------------------------------------
def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank-interpolated percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value != value:  # NaN
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; numbers right-aligned."""
    rows = [[str(c) for c in row] for row in rows]
    align = []
    for i in range(len(headers)):
        numeric = rows and all(
            re.fullmatch(r"–|[-+]?[\d,.]+\s*(%|×|x|ms|s|MiB|KiB|B)?", r[i] or "–") for r in rows
        )
        align.append("---:" if numeric else "---")
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


# --- processes -----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port(
    port: int, proc: subprocess.Popen[Any] | None, timeout: float, log: Path | None = None
) -> None:
    """Block until 127.0.0.1:port accepts connections (or the child died / time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"child exited early (code {proc.returncode}):\n{tail}")
        if port_in_use(port):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def start(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """A child in its own session (so its own children can be stopped with it)."""
    sink = log.open("ab")
    try:
        return subprocess.Popen(
            list(command),
            cwd=str(cwd),
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        sink.close()


def stop(proc: subprocess.Popen[Any] | None, *, timeout: float = 15) -> None:
    """SIGTERM the child's own process group (we started it with a new session), then KILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def child_env(tmp: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of the app under test: its own data dir and database, no Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REFLEX_", "COVERAGE_"))}
    env.update(
        {
            "ENVIRONMENT": "development",
            "DATABASE_URL": database_url,
            "DATA_DIR": str(tmp / "data"),
            "SECRET_KEY": SECRET_KEY,
            "REDIS_URL": "",  # empty beats a REDIS_URL from any .env file
            # One load generator on one address is what the API's rate limits refuse.
            "RATE_LIMIT_ANONYMOUS": "off",
            "RATE_LIMIT_AUTHENTICATED": "off",
            "SENTRY_DSN": "",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "console",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def set_own_env(tmp: Path, database_url: str, **extra: str) -> None:
    """Point this process at a private database (call BEFORE importing agentplatform)."""
    assert "agentplatform" not in sys.modules, "set the environment before importing the app"
    os.environ.update(child_env(tmp, database_url, **extra))
    os.chdir(tmp)  # no stray .env file from the current directory


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- PostgreSQL ----------------------------------------------------------------------
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def create_pg_database(tag: str) -> str:
    """A uniquely named database on the local server; returns its SQLAlchemy URL."""
    import uuid

    import psycopg

    name = f"agentplatform_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- docs/benchmarks.md --------------------------------------------------------------
INTRO = """# Benchmarks

Figures from the scripts in `bench/` (see `bench/README.md`), all taken on one machine. They
are measurements, not targets checked by tests. Regenerate everything with
`.venv/bin/python -m bench.run_all` (about 9-10 minutes), or one section with
`.venv/bin/python -m bench.<api_bench|engine_bench|frontend_bench>` (`--quick` for a short
smoke run, whose figures are marked as such).

**The machine is shared and was busy while these were taken**: every section records the
load average at its start. On 2 CPUs a load above 2 means other work was competing for the
CPU, so absolute numbers are pessimistic and noisy; ratios measured in the same run (API vs
bare Starlette, team runs vs direct calls) are the more meaningful figures.
"""


def _marker(name: str, end: bool = False) -> str:
    return f"<!-- bench:{name}:{'end' if end else 'start'} -->"


def _sections(text: str) -> dict[str, str]:
    out = {}
    for name in SECTIONS:
        m = re.search(
            re.escape(_marker(name)) + r"(.*?)" + re.escape(_marker(name, True)), text, re.S
        )
        if m:
            out[name] = m.group(1).strip("\n")
    return out


def reflow(markdown: str, width: int = 100) -> str:
    """Re-wrap prose paragraphs (tables, headings, lists and comments stay as they are)."""
    blocks = markdown.split("\n\n")
    out = []
    for block in blocks:
        lines = block.split("\n")
        keep = any(
            line.lstrip().startswith(("|", "#", "<!--", "```", "- ", "* ", "1. ")) for line in lines
        )
        if keep or not block.strip():
            out.append(block)
            continue
        text = " ".join(line.strip() for line in lines)
        wrapped = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
        safe: list[str] = []
        for line in wrapped:  # a line must not start like a list item, quote or heading
            if safe and re.match(r"([-+*>#=]|\d+[.)])(\s|$)", line):
                safe[-1] += " " + line
            else:
                safe.append(line)
        out.append("\n".join(safe))
    return "\n\n".join(out)


def render_doc(sections: Mapping[str, str], info: Mapping[str, Any]) -> str:
    parts = [INTRO.rstrip(), ""]
    parts.append(
        f"Machine: {info['nproc']} × {info['cpu']}, {info['mem_gib']} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {info['python']}."
    )
    parts.append("")
    parts.append(
        "Contents: " + ", ".join(f"[{TITLES[n]}](#{_anchor(TITLES[n])})" for n in SECTIONS)
    )
    for name in SECTIONS:
        body = sections.get(name) or f"## {TITLES[name]}\n\n_Not measured yet._"
        parts += ["", _marker(name), reflow(body.strip("\n")), _marker(name, True)]
    return "\n".join(parts) + "\n"


def _anchor(title: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", title.lower()).strip()
    return slug.replace(" ", "-")


def write_section(name: str, body: str, info: Mapping[str, Any]) -> None:
    """Replace one section of docs/benchmarks.md (creating the doc if needed)."""
    existing = _sections(DOC.read_text()) if DOC.exists() else {}
    existing[name] = body
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render_doc(existing, info))
    print(f"wrote the {name} section of {DOC.relative_to(REPO)}")


def section_title(name: str, quick: bool) -> str:
    return f"## {TITLES[name]}" + (
        " — QUICK RUN (smoke figures, not representative)" if quick else ""
    )
