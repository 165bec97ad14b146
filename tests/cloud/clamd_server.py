"""A real ClamAV daemon (Debian's clamav-daemon) on a free loopback port and a unix
socket in a temporary folder, with a signature database written here: no signature
download is possible, so the only signature it knows is one for the EICAR test string."""

from __future__ import annotations

import base64
import io
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from tests.cloud.live import free_port

# The EICAR anti-virus test string, kept encoded so that no scanner on a developer's
# machine quarantines this file.
EICAR = base64.b64decode(
    "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo="
)
SIGNATURE = "PhotoFlux.Test.EICAR"
STREAM_MAX = 1024 * 1024  # small, so a test can pass it cheaply


def eicar_png(size: tuple[int, int] = (64, 48)) -> bytes:
    """A valid PNG that carries the EICAR string in a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", EICAR.decode("ascii"))
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


class ClamdServer:
    """`clamd` in the foreground with a config written for this test only."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("clamd") or (
            "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
        )
        if self.binary is None:
            pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
        self.folder = folder
        self.port = free_port()
        self.socket_path = str(folder / "clamd.sock")
        self.tcp_url = f"tcp://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._write_config()

    def _write_config(self) -> None:
        database = self.folder / "db"
        database.mkdir(exist_ok=True)
        # .ndb body signature: Name:TargetType(0 = any file):Offset(* = anywhere):hex
        (database / "photoflux-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
        lines = [
            "Foreground yes",
            f"DatabaseDirectory {database}",
            f"LocalSocket {self.socket_path}",
            f"TCPSocket {self.port}",
            "TCPAddr 127.0.0.1",
            f"TemporaryDirectory {self.folder}",
            f"LogFile {self.folder / 'clamd.log'}",
            f"StreamMaxLength {STREAM_MAX}",
            "SelfCheck 3600",
        ]
        self.config = self.folder / "clamd.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> ClamdServer:
        self.process = subprocess.Popen(
            [self.binary, f"--config-file={self.config}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "clamd.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"clamd did not start:\n{log[-2000:]}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"zPING\0")
                return conn.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def __enter__(self) -> ClamdServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
