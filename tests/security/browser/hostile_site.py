"""A hostile web site on 127.0.0.1: pages for agents to fetch, and a listener for callbacks.

Every payload variant either sets `top.__xss` (script ran) or makes the browser request
`<listener>/hit/<variant>` (content loaded, a page navigated): the tests assert neither
happens while the payload is shown to a signed-in user.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def payloads(listener: str) -> dict[str, str]:
    """One short payload per trick (the offline model quotes at most 120 characters)."""
    hit = f"{listener}/hit"
    return {
        "script": "<script>top.__xss='script'</script>",
        "img-onerror": "<img src=x onerror=\"top.__xss='img'\">",
        "iframe-srcdoc": "<iframe srcdoc=\"<script>top.__xss='iframe'</script>\"></iframe>",
        "object": f'<object data="{hit}/object" type="text/html"></object>',
        "embed": f'<embed src="{hit}/embed" type="text/html">',
        "svg-onload": "<svg onload=\"top.__xss='svg'\"><circle r=9></circle></svg>",
        "style": f"<style>body{{background:url({hit}/style)}}</style>",
        "meta-refresh": f'<meta http-equiv="refresh" content="0;url={hit}/meta">',
        "base-href": f'<base href="{hit}/base/"><img src="x.png">',
        "javascript-link": "[open me](javascript:top.__xss='link')",
        "javascript-html-link": "<a href=\"javascript:top.__xss='a'\">open</a>",
    }


class HostileSite:
    """Serves `/page/<variant>` (a page carrying that payload) and records every request."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site._lock:
                    site.hits.append(self.path)
                variant = self.path.removeprefix("/page/")
                payload = payloads(site.url).get(variant, "")
                body = f"<html><body><h1>Welcome</h1>{payload}</body></html>".encode()
                self.send_response(200 if payload or self.path.startswith("/hit") else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HostileSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def callbacks(self) -> list[str]:
        """Requests a browser made for a payload (not the agent's own fetches of /page/)."""
        with self._lock:
            return [hit for hit in self.hits if hit.startswith("/hit")]
