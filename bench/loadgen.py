"""Closed-loop HTTP load: `concurrency` connections each send requests back to back for a
fixed time. Uses `wrk` when installed (C, cheap on a 2-CPU machine), else an async httpx
generator; either way in a process of its own, never in the process being measured.

A case is a JSON object: method, url, headers, and either `body` (sent as is; every `%N%`
in it becomes a token unique per request) or `bodies` (a list sent in rotation).
Run standalone: `python -m bench.loadgen '<case json>' --concurrency 10 --duration 3`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MARK = "LOADGEN_JSON "


def _lua_str(text: str) -> str:
    return "[==[" + text + "]==]"


def _wrk_script(case: dict[str, Any]) -> str:
    lines = [f"wrk.method = {_lua_str(case['method'])}"]
    for key, value in (case.get("headers") or {}).items():
        lines.append(f"wrk.headers[ {_lua_str(key)} ] = {_lua_str(value)}")
    bodies = case.get("bodies")
    body = case.get("body")
    lines += [
        "local next_id = 0",
        "function setup(thread) thread:set('tid', next_id); next_id = next_id + 1 end",
        "local counter = 0",
    ]
    if bodies:
        items = ", ".join(_lua_str(b) for b in bodies)
        lines += [
            f"local bodies = {{{items}}}",
            "request = function()",
            "  counter = counter + 1",
            "  local i = ((counter + (tid or 0) * 7) % #bodies) + 1",
            "  return wrk.format(nil, nil, nil, bodies[i])",
            "end",
        ]
    elif body is not None and "%N%" in body:
        lines += [
            f"local template = {_lua_str(body)}",
            "request = function()",
            "  counter = counter + 1",
            "  local token = tostring(tid or 0) .. '-' .. tostring(counter)",
            "  return wrk.format(nil, nil, nil, (string.gsub(template, '%%N%%', token)))",
            "end",
        ]
    elif body is not None:
        lines.append(f"wrk.body = {_lua_str(body)}")
    lines += [
        "done = function(summary, latency, requests)",
        "  local e = summary.errors",
        "  local values = {summary.requests, summary.duration, e.status,",
        "    e.connect + e.read + e.write, e.timeout, latency:percentile(50),",
        "    latency:percentile(95), latency:percentile(99), latency.mean, latency.max}",
        f"  io.write('{MARK}' .. table.concat(values, ' ') .. '\\n')",
        "end",
    ]
    return "\n".join(lines) + "\n"


def run_wrk(case: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    threads = max(1, min(concurrency, 2))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_wrk_script(case))
        script = fh.name
    try:
        command = [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "60s",
            "-s",
            script,
            case["url"],
        ]
        out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90)
    finally:
        os.unlink(script)
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            v = [float(x) for x in line[len(MARK) :].split()]
            return {
                "tool": "wrk",
                "requests": int(v[0]),
                "duration_s": v[1] / 1e6,
                "rps": v[0] / (v[1] / 1e6) if v[1] else 0.0,
                "non2xx": int(v[2]),
                "socket_errors": int(v[3]),
                "timeouts": int(v[4]),
                "p50_ms": v[5] / 1e3,
                "p95_ms": v[6] / 1e3,
                "p99_ms": v[7] / 1e3,
                "mean_ms": v[8] / 1e3,
                "max_ms": v[9] / 1e3,
            }
    raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


# --- the httpx fallback --------------------------------------------------------------
async def _httpx_load(case: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    non2xx = errors = 0
    counter = itertools.count(1)
    bodies = case.get("bodies")
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        def body() -> str | None:
            n = next(counter)
            if bodies:
                return str(bodies[n % len(bodies)])
            raw = case.get("body")
            return raw.replace("%N%", f"h-{n}") if raw else raw

        async def worker(end: float) -> None:
            nonlocal non2xx, errors
            while time.perf_counter() < end:
                started = time.perf_counter()
                try:
                    resp = await client.request(
                        case["method"], case["url"], headers=case.get("headers"), content=body()
                    )
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if not 200 <= resp.status_code < 300:
                    non2xx += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker(began + duration) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    from bench._common import percentile

    return {
        "tool": "httpx",
        "requests": len(latencies),
        "duration_s": elapsed,
        "rps": len(latencies) / elapsed,
        "non2xx": non2xx,
        "socket_errors": errors,
        "timeouts": 0,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "mean_ms": sum(latencies) / len(latencies) if latencies else float("nan"),
        "max_ms": max(latencies, default=float("nan")),
    }


def run_httpx(case: dict[str, Any], concurrency: int, duration: float) -> dict[str, Any]:
    """The httpx generator in a child process (this module's `main`)."""
    command = [
        sys.executable,
        "-m",
        "bench.loadgen",
        json.dumps(case),
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--tool",
        "httpx-inproc",
    ]
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 90, cwd=root)
    for line in out.stdout.splitlines():
        if line.startswith(MARK):
            return dict(json.loads(line[len(MARK) :]))
    raise RuntimeError(f"loadgen failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


def pick_tool(preferred: str = "auto") -> str:
    if preferred == "auto":
        return "wrk" if shutil.which("wrk") else "httpx"
    return preferred


def run(
    case: dict[str, Any], concurrency: int, duration: float, tool: str = "auto"
) -> dict[str, Any]:
    """Load one case; returns requests, rps, p50/p95/p99/mean/max ms and error counts."""
    if pick_tool(tool) == "wrk":
        return run_wrk(case, concurrency, duration)
    return run_httpx(case, concurrency, duration)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", help="the case as JSON")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--duration", type=float, default=3)
    parser.add_argument("--tool", default="auto", choices=["auto", "wrk", "httpx", "httpx-inproc"])
    args = parser.parse_args()
    case = json.loads(args.case)
    if args.tool == "httpx-inproc":
        result = asyncio.run(_httpx_load(case, args.concurrency, args.duration))
    else:
        result = run(case, args.concurrency, args.duration, args.tool)
    print(MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
