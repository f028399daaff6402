"""Run every benchmark, one after the other, and rewrite docs/benchmarks.md with all sections.

Each benchmark runs in a process of its own (`python -m bench.<name> --no-doc`) and leaves
its figures in bench/results/<name>.json; this script then renders the whole document, so
every section comes from the same session. About 10-12 minutes on the 2-CPU machine.

    .venv/bin/python -m bench.run_all [--quick] [--only api,engine,frontend]
                                      [--fe-src DIR | --fe-fresh]

The frontend is served from a private copy of the repo (default /tmp/agentplatform-bench-frontend,
refreshed with rsync each time; its .web is kept, so only the first run pays for npm + a cold
build); `--fe-fresh` uses a brand-new temporary copy like `bench.frontend_bench` does by default.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from typing import Any

from bench import _common as c
from bench import api_bench, engine_bench, frontend_bench

# Never the working checkout (others build there): a private copy outside it.
FE_COPY = "/tmp/agentplatform-bench-frontend"

BENCHES = {
    "api": ("bench.api_bench", "api_bench.json", api_bench.section),
    "engine": ("bench.engine_bench", "engine_bench.json", engine_bench.section),
    "frontend": ("bench.frontend_bench", "frontend_bench.json", frontend_bench.section),
}


def render_only() -> None:
    """Re-render docs/benchmarks.md from bench/results/*.json (after editing the text)."""
    sections = c._sections(c.DOC.read_text()) if c.DOC.exists() else {}
    info = None
    for name in c.SECTIONS:
        _module, json_name, render = BENCHES[name]
        path = c.RESULTS / json_name
        if path.exists():
            result = json.loads(path.read_text())
            sections[name] = render(result)
            info = info or result["info"]
    c.DOC.write_text(c.render_doc(sections, info or c.machine_info()))
    print(f"re-rendered {c.DOC.relative_to(c.REPO)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run of everything")
    parser.add_argument("--only", default="api,engine,frontend", help="comma-separated subset")
    parser.add_argument(
        "--fe-src",
        default=FE_COPY,
        help="frontend: the private copy to rsync the repo into and serve from; its "
        ".web (node_modules, build cache) is kept between runs",
    )
    parser.add_argument(
        "--fe-fresh",
        action="store_true",
        help="frontend: a fresh temporary copy instead (a full cold build, ~3+ min)",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the doc from the JSON results of the last run, measure nothing",
    )
    args = parser.parse_args()
    if args.render_only:
        render_only()
        return
    info = c.machine_info()
    c.print_header("run_all", info)
    wanted = [n for n in c.SECTIONS if n in args.only.split(",")]
    existing = c._sections(c.DOC.read_text()) if c.DOC.exists() else {}
    sections: dict[str, str] = dict(existing)
    took: dict[str, float] = {}
    c.RESULTS.mkdir(exist_ok=True)
    for name in wanted:
        module, json_name, render = BENCHES[name]
        command = [c.PYTHON, "-m", module, "--no-doc"] + (["--quick"] if args.quick else [])
        if name == "frontend" and not args.fe_fresh:
            command += ["--src", args.fe_src, "--sync"]
        (c.RESULTS / json_name).unlink(missing_ok=True)
        started = time.perf_counter()
        print(f"\n### {name}: {' '.join(command[1:])}", flush=True)
        proc = subprocess.run(command, cwd=c.REPO, timeout=1800)
        took[name] = time.perf_counter() - started
        path = c.RESULTS / json_name
        if proc.returncode == 0 and path.exists():
            result: dict[str, Any] = json.loads(path.read_text())
            sections[name] = render(result)
        else:
            previous = existing.get(name, "")
            sections[name] = (
                f"## {c.TITLES[name]}\n\n**The last run of this benchmark failed** (exit code "
                f"{proc.returncode}, {info['date']}); "
                + (
                    "the figures below are from the run before.\n\n" + previous.split("\n", 2)[-1]
                    if previous
                    else "no figures yet."
                )
            )
    c.DOC.write_text(c.render_doc(sections, info))
    total = sum(took.values())
    print(
        f"\nwrote {c.DOC.relative_to(c.REPO)}; took "
        + ", ".join(f"{k} {v / 60:.1f} min" for k, v in took.items())
        + f"; total {total / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
