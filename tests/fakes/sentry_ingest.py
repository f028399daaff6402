"""A fake Sentry ingest on 127.0.0.1: accepts envelopes (backend SDK and browser SDK alike)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeIngest:
    """Accepts Sentry envelopes and store requests; keeps every event it got.

    Answers CORS preflights, so a browser on another origin can post to it as to sentry.io.
    """

    def __init__(self) -> None:
        self.raw: list[str] = []
        self.events: list[dict[str, Any]] = []
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "*")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")

            def do_OPTIONS(self) -> None:
                self.send_response(200)
                self._cors()
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ingest.receive(self.path, body.decode())
                self.send_response(200)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def dsn(self, project: int = 1) -> str:
        return f"http://public@127.0.0.1:{self.port}/{project}"

    def receive(self, path: str, text: str) -> None:
        self.raw.append(text)
        if path.split("?")[0].endswith("/store/"):
            self.events.append(json.loads(text))
            return
        if not path.split("?")[0].endswith("/envelope/"):
            return
        lines = text.split("\n")
        for index, line in enumerate(lines[1:-1], start=1):
            header = json.loads(line) if line.startswith("{") else {}
            if header.get("type") in ("event", "transaction") and index + 1 < len(lines):
                self.events.append(json.loads(lines[index + 1]))

    def wait_for_events(
        self,
        count: int = 1,
        timeout: float = 10,
        *,
        flush: Callable[[], object] | None = None,
        where: Callable[[dict[str, Any]], bool] = lambda _event: True,
    ) -> list[dict[str, Any]]:
        """The events matching `where`, once there are `count` of them (or the time is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [event for event in self.events if where(event)]
            if len(found) >= count:
                return found
            if flush is not None:
                flush()
            time.sleep(0.05)
        return [event for event in self.events if where(event)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
