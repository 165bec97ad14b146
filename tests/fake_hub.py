"""A minimal Hugging Face Hub over loopback HTTP, for download tests (no internet).

Serves one repository's files with the headers huggingface_hub relies on (commit,
ETag, size, Range). `cut_after[name]` lists byte counts after which successive
transfers of that file are dropped, to simulate broken connections; `ranges` records Range headers.
`hold_after[name]` = n sends the first n bytes of the next transfer of that file, then
waits for `release` before the rest (a download caught mid-file, without timing).
`pace[name]` = seconds to wait between 64 kB pieces (a slow line, for screenshots).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

COMMIT = "a" * 40


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.cut_after: dict[str, list[int]] = {}
        self.hold_after: dict[str, int] = {}
        self.release = threading.Event()
        self.pace: dict[str, float] = {}
        self.ranges: list[tuple[str, str]] = []
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                hub._serve(self, head=True)

            def do_GET(self) -> None:
                hub._serve(self, head=False)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _json(self, handler: BaseHTTPRequestHandler, payload: object, head: bool) -> None:
        body = json.dumps(payload).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if not head:
            handler.wfile.write(body)

    def _serve(self, handler: BaseHTTPRequestHandler, head: bool) -> None:
        path = unquote(urlparse(handler.path).path)
        self.requests.append(f"{handler.command} {path}")
        for repo, files in self.repos.items():
            api = f"/api/models/{repo}/"
            if path.startswith(api + "revision/"):
                siblings = [{"rfilename": name, "size": len(data)} for name, data in files.items()]
                return self._json(handler, {"id": repo, "sha": COMMIT, "siblings": siblings}, head)
            if path.startswith(api + "tree/"):
                entries = [
                    {"type": "file", "path": name, "size": len(data), "oid": _oid(data)}
                    for name, data in files.items()
                ]
                return self._json(handler, entries, head)
            prefix = f"/{repo}/resolve/"
            if path.startswith(prefix):
                name = path[len(prefix) :].split("/", 1)[1]
                if name in files:
                    return self._file(handler, files[name], name, head)
        handler.send_response(404)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _file(self, handler: BaseHTTPRequestHandler, data: bytes, name: str, head: bool) -> None:
        start = 0
        wanted = handler.headers.get("Range")
        if wanted and not head:
            self.ranges.append((name, wanted))
            start = int(wanted.split("=")[1].split("-")[0])
        body = data[start:]
        handler.send_response(206 if start else 200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", f'"{_oid(data)}"')
        handler.send_header("X-Repo-Commit", COMMIT)
        handler.send_header("Accept-Ranges", "bytes")
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        if head:
            return
        cuts = self.cut_after.get(name)
        if cuts:  # a connection that dies mid-file
            cut = cuts.pop(0)
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        hold = self.hold_after.pop(name, None)
        if hold is not None:  # part now, the rest once the test says so
            handler.wfile.write(body[:hold])
            handler.wfile.flush()
            self.release.wait(30)
            with contextlib.suppress(ConnectionError):  # the client paused and hung up
                handler.wfile.write(body[hold:])
            return
        pace = self.pace.get(name)
        if pace:
            with contextlib.suppress(ConnectionError):
                for start in range(0, len(body), 1 << 16):
                    handler.wfile.write(body[start : start + (1 << 16)])
                    time.sleep(pace)
            return
        handler.wfile.write(body)


def _oid(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
