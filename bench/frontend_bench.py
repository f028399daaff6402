# ruff: noqa: RUF001
"""Frontend benchmark (issue 5): production build size and the dashboard's first load.

Never builds or serves inside the working checkout (others build there): the app is served
from a private copy, by default a fresh temporary one made with

    rsync -a --delete --exclude .venv --exclude .web --exclude data --exclude .git \\
          --exclude __pycache__ <repo>/ <copy>/

and `PORT=<port> DATA_DIR=<tmp> python -m agentplatform.cli serve` run from that copy
(migrate, seed, production build, serve on one port). Then:

- build size: `.web/build/client` (Reflex 0.10's production output): total bytes, JS bytes,
  gzip -9 sizes, the largest chunks;
- first load of /dashboard with Playwright driving Debian's Chromium (never `playwright
  install`): a user registers through the UI (onboarding with the starter agent), one run is
  made through the API so the dashboard has data; then navigation to /dashboard is timed until
  the headline cards and the runs-per-day chart are in the DOM. Cold = a new browser context
  (empty HTTP cache, same signed-in storage); warm = the same context again (cached assets);
  in-app = clicking "Dashboard" in the sidebar from another page (no full page load).

    .venv/bin/python -m bench.frontend_bench [--quick] [--src DIR [--sync]] [--port 3301]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench import _common as c

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 900
TIMEOUT_MS = 60_000
CONTENT_READY_JS = """() => {
  const cards = document.querySelector('[role=group][aria-label="Headline numbers"]');
  const chart = document.querySelector('[role=img][aria-label="Runs per day, by outcome"] svg');
  return cards && chart && cards.textContent.includes('Runs') ? performance.now() : null;
}"""
TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0] || {};
  const paints = performance.getEntriesByType('paint');
  const fcp = paints.find(p => p.name === 'first-contentful-paint') || paints[0];
  const res = performance.getEntriesByType('resource');
  const sum = (f, k) => res.filter(f).reduce((a, r) => a + (r[k] || 0), 0);
  const isJs = r => r.name.split('?')[0].endsWith('.js');
  return {
    ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
    fcp: fcp ? fcp.startTime : null, html_transfer: nav.transferSize,
    js_files: res.filter(isJs).length, js_transfer: sum(isJs, 'transferSize'),
    js_decoded: sum(isJs, 'decodedBodySize'), all_transfer: sum(() => true, 'transferSize'),
    resources: res.length, paints: paints.map(p => p.name),
    biggest: res.slice().sort((a, b) => b.decodedBodySize - a.decodedBodySize).slice(0, 5)
      .map(r => [r.name.replace(location.origin, ''), r.decodedBodySize, r.transferSize]),
  };
}"""


# --- the served copy ---------------------------------------------------------------------
def rsync_copy(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "rsync",
            "-a",
            "--delete",
            "--exclude",
            ".venv",
            "--exclude",
            ".web",
            "--exclude",
            "data",
            "--exclude",
            ".git",
            "--exclude",
            "__pycache__",
            f"{c.REPO}/",
            f"{dest}/",
        ],
        check=True,
        timeout=300,
    )


def serve(src: Path, data: Path, port: int, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    """Start `agentplatform serve` from `src`; returns once the app answers (and the time)."""
    assert src.resolve() != c.REPO.resolve(), "never serve from the working checkout"
    env = c.child_env(data, f"sqlite:///{data / 'data' / 'app.db'}", PORT=str(port))
    env["DATA_DIR"] = str(data / "data")
    env["PYTHONPATH"] = str(src)  # this copy's package, not the editable install's
    started = time.perf_counter()
    proc = c.start([c.PYTHON, "-m", "agentplatform.cli", "serve"], env=env, cwd=src, log=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited early:\n{log.read_text()[-3000:]}")
        try:
            healthy = httpx.get(f"{url}/api/health", timeout=3).status_code == 200
            if healthy and httpx.get(url, timeout=10).status_code == 200:
                return proc, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(1)
    c.stop(proc)
    raise RuntimeError(
        f"the app did not come up in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}"
    )


# --- build size ----------------------------------------------------------------------------
def build_size(client: Path) -> dict[str, Any]:
    """Raw and gzip -9 sizes of the production build, by kind (precompressed sidecars aside)."""
    kinds: dict[str, dict[str, int]] = {}
    largest: list[tuple[int, int, str]] = []
    for path in client.rglob("*"):
        if not path.is_file() or path.suffix in (".gz", ".br", ".zst"):
            continue
        ext = path.suffix.lower().lstrip(".")
        kind = {
            "js": "JavaScript",
            "mjs": "JavaScript",
            "css": "CSS",
            "html": "HTML",
            "woff": "fonts",
            "woff2": "fonts",
            "ttf": "fonts",
        }.get(ext, "other")
        raw = path.read_bytes()
        packed = (
            len(gzip.compress(raw, 9))
            if kind in ("JavaScript", "CSS", "HTML", "other")
            else len(raw)
        )
        entry = kinds.setdefault(kind, {"files": 0, "bytes": 0, "gzip": 0})
        entry["files"] += 1
        entry["bytes"] += len(raw)
        entry["gzip"] += packed
        if kind == "JavaScript":
            largest.append((len(raw), packed, str(path.relative_to(client))))
    sidecars = sum(
        p.stat().st_size
        for p in client.rglob("*")
        if p.is_file() and p.suffix in (".gz", ".br", ".zst")
    )
    total = {k: sum(v[k] for v in kinds.values()) for k in ("files", "bytes", "gzip")}
    largest.sort(reverse=True)
    return {
        "kinds": kinds,
        "total": total,
        "sidecars": sidecars,
        "largest": largest[:6],
        "disk": sum(p.stat().st_size for p in client.rglob("*") if p.is_file()),
    }


# --- the browser ---------------------------------------------------------------------------
def sign_up(page: Any, url: str) -> str:
    """Register through the UI and finish onboarding with the starter (offline) agent."""
    from playwright.sync_api import expect

    email = f"fe-{uuid.uuid4().hex[:10]}@bench.example.com"
    page.goto(f"{url}/register")
    page.get_by_label("Full name", exact=True).fill("Frida Frontend")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(c.PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/onboarding"), timeout=TIMEOUT_MS)
    page.get_by_label("Operator", exact=True).click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Create agent and finish").click()
    expect(page).not_to_have_url(re.compile(r"/onboarding"), timeout=TIMEOUT_MS)
    return email


def make_a_run(url: str, email: str) -> None:
    """One finished run, so the dashboard draws its cards and charts."""
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/auth/login", json={"email": email, "password": c.PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        agent = client.get("/api/agents", headers=headers).json()["data"][0]
        run = client.post(
            "/api/runs", headers=headers, json={"agent_id": agent["id"], "input": "What is 6*7?"}
        )
        run.raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = client.get(f"/api/runs/{run.json()['id']}", headers=headers).json()["status"]
            if status not in ("queued", "running"):
                return
            time.sleep(0.3)
    raise RuntimeError("the run did not finish")


def timed_load(page: Any, url: str) -> dict[str, Any]:
    """Navigate to /dashboard; ms from navigation start until the content is in the DOM."""
    encodings: set[str] = set()

    def on_response(response: Any) -> None:
        if response.url.split("?")[0].endswith(".js"):
            encodings.add(response.headers.get("content-encoding", "identity"))

    page.on("response", on_response)
    wall0 = time.perf_counter()
    page.goto(f"{url}/dashboard", wait_until="commit", timeout=TIMEOUT_MS)
    ready = page.wait_for_function(CONTENT_READY_JS, polling="raf", timeout=TIMEOUT_MS).json_value()
    wall = (time.perf_counter() - wall0) * 1000
    page.wait_for_load_state("load", timeout=TIMEOUT_MS)
    timing = page.evaluate(TIMING_JS)
    page.remove_listener("response", on_response)
    return {"content_ms": ready, "wall_ms": wall, **timing, "js_encoding": sorted(encodings)}


def in_app_nav(page: Any, url: str) -> dict[str, Any]:
    """From /agents, click "Dashboard" in the sidebar: a client-side route change."""
    page.goto(f"{url}/agents", wait_until="load", timeout=TIMEOUT_MS)
    page.get_by_role("heading", name="Agents").first.wait_for(timeout=TIMEOUT_MS)
    t0 = page.evaluate("performance.now()")
    page.get_by_role("link", name="Dashboard").first.click()
    ready = page.wait_for_function(CONTENT_READY_JS, polling="raf", timeout=TIMEOUT_MS).json_value()
    return {"content_ms": ready - t0}


def browser_loads(url: str, reps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            t0 = time.perf_counter()
            email = sign_up(page, url)
            signup_s = time.perf_counter() - t0
            make_a_run(url, email)
            storage = context.storage_state()
            context.close()
            # Warm-up of the server side (first render caches, DB pages): not reported.
            ctx = browser.new_context(
                storage_state=storage, viewport={"width": 1280, "height": 800}
            )
            timed_load(ctx.new_page(), url)
            ctx.close()
            cold, warm, spa = [], [], []
            for _ in range(reps):
                ctx = browser.new_context(
                    storage_state=storage, viewport={"width": 1280, "height": 800}
                )
                cold.append(timed_load(ctx.new_page(), url))
                ctx.close()
            ctx = browser.new_context(
                storage_state=storage, viewport={"width": 1280, "height": 800}
            )
            page = ctx.new_page()
            timed_load(page, url)  # fills this context's cache
            for _ in range(reps):
                warm.append(timed_load(page, url))
            for _ in range(reps):
                spa.append(in_app_nav(page, url))
            ctx.close()
        finally:
            browser.close()
    return {
        "signup_s": signup_s,
        "cold": cold,
        "warm": warm,
        "in_app": spa,
        "chromium": _chromium_version(),
    }


def _chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --- the benchmark -------------------------------------------------------------------------
def measure(quick: bool, src: Path | None, sync: bool, port: int) -> dict[str, Any]:
    info = c.machine_info()
    c.print_header("frontend_bench", info)
    temp_src = src is None
    if src is None:
        src = c.temp_dir("benchfe-")
        rsync_copy(src)
        print(f"fresh copy of the repo in {src}")
    elif sync:
        rsync_copy(src)
    src = src.resolve()
    if c.port_in_use(port):
        port = c.free_port()
    data = c.temp_dir("benchfe-data-")
    log = data / "serve.log"
    proc = None
    try:
        had_build = (src / ".web" / "build" / "client").exists()
        proc, startup_s = serve(src, data, port, log)
        print(
            f"served from {src} on port {port} after {startup_s:.0f} s "
            f"({'with' if had_build else 'without'} a previous build in the copy)"
        )
        size = build_size(src / ".web" / "build" / "client")
        t = size["total"]
        print(
            f"build: {t['files']} files, {t['bytes'] / 1e6:.2f} MB raw, "
            f"{t['gzip'] / 1e6:.2f} MB gzip"
        )
        loads = browser_loads(f"http://127.0.0.1:{port}", 2 if quick else 4)
        for kind in ("cold", "warm", "in_app"):
            values = [round(x["content_ms"]) for x in loads[kind]]
            print(f"dashboard {kind:6}: content after {values} ms")
    finally:
        c.stop(proc, timeout=30)
        c.remove(data)
        if temp_src:
            c.remove(src)
    return {
        "info": info,
        "quick": quick,
        "startup_s": startup_s,
        "had_build": had_build,
        "src": "a fresh temporary copy of the repo"
        if temp_src
        else f"the private copy `{src}` (rsynced from the repo)",
        "size": size,
        **loads,
    }


def section(result: dict[str, Any]) -> str:
    info, size = result["info"], result["size"]
    mb = lambda b: f"{b / 2**20:.2f} MiB"  # noqa: E731
    kib = lambda b: f"{b / 1024:,.0f} KiB"  # noqa: E731
    size_rows = [
        [kind, v["files"], mb(v["bytes"]), mb(v["gzip"]) if kind != "fonts" else "–"]
        for kind, v in sorted(size["kinds"].items(), key=lambda kv: -kv[1]["bytes"])
    ]
    size_rows.append(["**total**", size["total"]["files"], mb(size["total"]["bytes"]), "–"])
    largest = c.table(
        ["largest JS chunks", "raw", "gzip -9"],
        [[f"`{p}`", kib(r), kib(g)] for r, g, p in size["largest"]],
    )

    def stats(rows: list[dict[str, Any]], key: str) -> str:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return c.fmt(c.median(vals), 0) if vals else "–"

    def span(rows: list[dict[str, Any]]) -> str:
        values = [r["content_ms"] for r in rows]
        return f"{min(values):,.0f}–{max(values):,.0f}"

    load_rows = []
    for label, key in (
        ("cold (new context, empty cache)", "cold"),
        ("warm (same context, cached)", "warm"),
    ):
        rows = result[key]
        load_rows.append(
            [
                label,
                len(rows),
                stats(rows, "content_ms"),
                span(rows),
                stats(rows, "ttfb"),
                stats(rows, "fcp"),
                stats(rows, "dcl"),
                stats(rows, "load"),
                f"{c.median([r['js_files'] for r in rows]):.0f}",
                kib(c.median([r["js_transfer"] for r in rows])),
                kib(c.median([r["js_decoded"] for r in rows])),
            ]
        )
    spa = result["in_app"]
    load_rows.append(
        [
            "in-app (sidebar link from /agents)",
            len(spa),
            stats(spa, "content_ms"),
            f"{min(r['content_ms'] for r in spa):,.0f}–{max(r['content_ms'] for r in spa):,.0f}",
            "–",
            "–",
            "–",
            "–",
            "–",
            "–",
            "–",
        ]
    )
    loads = c.table(
        [
            "navigation to /dashboard",
            "reps",
            "content visible ms (median)",
            "range ms",
            "TTFB ms",
            "first paint ms",
            "DOMContentLoaded ms",
            "load ms",
            "JS files",
            "JS transferred",
            "JS decoded",
        ],
        load_rows,
    )
    cold = result["cold"]
    encodings = sorted({e for r in cold for e in r["js_encoding"]})
    had = (
        "a previous build was present in the copy"
        if result["had_build"]
        else "a full production build of a fresh copy"
    )
    startup = (
        f"{result['startup_s']:.0f} s from `agentplatform serve` to a healthy app "
        f"({had}"
        ", on the busy machine)"
    )
    cold_content = c.median([r["content_ms"] for r in cold])
    cold_dcl = c.median([r["dcl"] for r in cold])
    warm_content = c.median([r["content_ms"] for r in result["warm"]])
    spa_content = c.median([r["content_ms"] for r in spa])
    js = size["kinds"].get("JavaScript", {"bytes": 0, "gzip": 0, "files": 0})
    js_big = [b for b in cold[0].get("biggest", []) if b[0].split("?")[0].endswith(".js")]
    chunk_note = ""
    if js_big:
        name, decoded, transferred = js_big[0]
        share = transferred / max(cold[0]["js_transfer"], 1)
        chunk_note = (
            f"The biggest single cost is `{name}`: {kib(decoded)} decoded, {kib(transferred)} "
            f"over the wire, {share:.0%} of the JS bytes of the dashboard's cold load. It is a "
            "chunk shared between routes that the bundler named after its first module (lucide's "
            "`log-out` icon, which the sidebar layout uses); by its identifiers (inspected on "
            "2026-11-24) it carries recharts, react-markdown with remark/rehype, Prism/highlight "
            "syntax highlighting, KaTeX/Mermaid references, lucide's dynamic-icon import map "
            "(~180 KB, one lazy import per icon, pulled in by `rx.icon` when the icon name is a "
            "state Var) and a ~60 KB `__vite__mapDeps` table. The dashboard draws charts but no "
            "markdown or code, so splitting the markdown/highlighting stack and the dynamic-icon "
            "map out of this chunk is the obvious lever for the cold load."
        )
    biggest = c.table(
        ["largest files fetched on a cold load of /dashboard", "decoded", "transferred"],
        [[f"`{name}`", kib(dec), kib(tr)] for name, dec, tr in cold[0].get("biggest", [])],
    )
    return f"""{c.section_title("frontend", result["quick"])}

{c.run_line(info, f"served from {result['src']}; {result['chromium']} headless via Playwright")}

How: the app is served from a private copy of the repo with `agentplatform serve` (SQLite,
production build, one port); {startup}. Build size is measured on `.web/build/client`
(Reflex 0.10's production output; the `.gz`/`.br` sidecars the build also writes,
{mb(size["sidecars"])}, are not counted in the totals; gzip -9 is computed per file). A user
registers through the UI (onboarding, starter agent); one run is made through the API so the
dashboard has cards and charts. "Content visible" is `performance.now()` (ms since the navigation
started) when the headline cards and the runs-per-day chart's SVG are in the DOM, polled
every animation frame; the other columns come from the Navigation/Paint/Resource Timing APIs.
JS was served with content-encoding: {", ".join(encodings) or "?"}.

{c.table(["build output", "files", "raw", "gzip -9"], size_rows)}

{largest}

{loads}

{biggest}

**What this means / where the time goes.** The production build holds {js["files"]:,} JavaScript
files ({mb(js["bytes"])} raw, {mb(js["gzip"])} gzipped), most of them small per-icon and
per-component chunks that a page only fetches when it uses them; the dashboard's cold load
fetched a median of {c.median([r["js_files"] for r in cold]):.0f} JS files
({kib(c.median([r["js_decoded"] for r in cold]))} decoded). On a cold load the document is parsed
(DOMContentLoaded) after {c.fmt(cold_dcl, 0)} ms, but the content only appears at
{c.fmt(cold_content, 0)} ms: the rest is downloading and evaluating the JS chunks, hydrating React,
opening Reflex's websocket, restoring the session from local storage, and the dashboard's
`on_load` event (its database queries) answering with the state that draws the cards and the
chart. With a warm cache the same navigation takes {c.fmt(warm_content, 0)} ms, and switching to
the dashboard inside the app {c.fmt(spa_content, 0)} ms (no page load: the code is cached and the
websocket open; what remains is Reflex's client-side route change, the page's `on_load` event and
rendering).

{chunk_note}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 repetitions instead of 4")
    parser.add_argument(
        "--src",
        type=Path,
        default=None,
        help="serve from this directory (default: a fresh temporary copy)",
    )
    parser.add_argument("--sync", action="store_true", help="rsync the repo into --src first")
    parser.add_argument("--port", type=int, default=3301)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    result = measure(args.quick, args.src, args.sync, args.port)
    c.RESULTS.mkdir(exist_ok=True)
    (c.RESULTS / "frontend_bench.json").write_text(json.dumps(result, indent=2, default=str))
    if not args.no_doc:
        c.write_section("frontend", section(result), result["info"])


if __name__ == "__main__":
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    main()
