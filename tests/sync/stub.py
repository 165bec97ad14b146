"""A tiny loopback HTTP server that answers a scripted list of failures first, then
forwards every request to the real cloud API, so the outcome lands in the real store."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class FlakyProxy:
    def __init__(self, upstream: str, script: list[tuple[int, dict[str, str]]]) -> None:
        self.upstream = upstream
        self.script = list(script)
        self.seen: list[tuple[str, int]] = []  # (path, status answered)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if proxy.script:
                    status, headers = proxy.script.pop(0)
                    payload, kind = b'{"detail": "scripted failure"}', "application/json"
                else:
                    answer = httpx.post(
                        proxy.upstream + self.path,
                        content=body,
                        headers={
                            "Authorization": self.headers["Authorization"],
                            "Content-Type": "application/json",
                        },
                        timeout=30,
                    )
                    status, headers = answer.status_code, {}
                    payload, kind = answer.content, answer.headers["content-type"]
                proxy.seen.append((self.path, status))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
