"""A camera feed for the kiosk: OpenCV `VideoCapture` on a device index or a video file.

Qt-free. A plain thread reads frames as fast as the source gives them and keeps only
the newest, so whoever shows the feed (the kiosk's timer on the GUI thread) never waits
on the device: `latest()` answers at once. A video file stands in for a camera in tests
and demos: it is paced at its own frame rate and loops at its end.

OpenCV loads through engine/lazy.py on the first feed, never at import.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from photoflux_desktop.engine.errors import bad_input
from photoflux_desktop.engine.lazy import opencv as _cv2

CameraSource = int | str | Path
_FIRST_FRAME_S = 5.0  # how long `wait_first_frame` waits for a slow device to warm up


def parse_source(text: str) -> CameraSource:
    """A settings string: a device index ("0", "1") or a video file path."""
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else Path(stripped).expanduser()


def _open_capture(source: CameraSource):
    cv2 = _cv2()
    is_file = not isinstance(source, int)
    if is_file and not Path(source).is_file():
        raise bad_input(
            f"The camera video '{source}' does not exist.",
            "Choose a camera number (0 for the first camera) or an existing video file.",
        )
    capture = cv2.VideoCapture(str(source) if is_file else int(source))
    if not capture.isOpened():
        capture.release()
        what = f"video '{source}'" if is_file else f"camera {source}"
        raise bad_input(
            f"The {what} could not be opened.",
            "Check that the camera is connected and not used by another app, "
            "or let guests choose a photo from a file.",
        )
    return capture


class CameraFeed:
    """The newest frame of a camera or video file, read on a background thread."""

    def __init__(self, source: CameraSource) -> None:
        self.source = source
        self.is_file = not isinstance(source, int)
        self._capture = _open_capture(source)
        fps = float(self._capture.get(_cv2().CAP_PROP_FPS) or 0.0)
        # a file is paced like a live camera; a device paces itself
        self._frame_interval = 1.0 / fps if self.is_file and 0 < fps < 240 else 0.0
        self._lock = threading.Lock()
        self._frame: np.ndarray | None = None
        self._frames_read = 0
        self._stop = threading.Event()
        self._first = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="photoflux-camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        cv2 = _cv2()
        failures = 0
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                ok, bgr = self._capture.read()
                if not ok:
                    if self.is_file and self._frames_read:  # end of the video: loop
                        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    failures += 1
                    if failures > 50:
                        self.error = "The camera stopped sending pictures."
                        return
                    self._stop.wait(0.02)
                    continue
                failures = 0
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                with self._lock:
                    self._frame = rgb
                    self._frames_read += 1
                self._first.set()
                spare = self._frame_interval - (time.perf_counter() - started)
                if spare > 0:
                    self._stop.wait(spare)
        finally:
            self._first.set()  # nobody waits for a frame that will never come
            self._capture.release()

    @property
    def frames_read(self) -> int:
        with self._lock:
            return self._frames_read

    def wait_first_frame(self, timeout_s: float = _FIRST_FRAME_S) -> bool:
        return self._first.wait(timeout_s) and self.latest() is not None

    def latest(self) -> np.ndarray | None:
        """The newest frame (RGB, height × width × 3, uint8), or None before the first."""
        with self._lock:
            return None if self._frame is None else self._frame.copy()

    def snapshot(self) -> Image.Image:
        """The newest frame as a photo; a bad-input error when there is none."""
        frame = self.latest()
        if frame is None:
            raise bad_input(
                self.error or "The camera has not sent a picture yet.",
                "Wait a moment and try again, or choose a photo from a file.",
            )
        return Image.fromarray(frame, "RGB")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout_s: float = 2.0) -> None:
        """Stops reading and releases the device (the thread releases it on its way out)."""
        self._stop.set()
        self._thread.join(timeout_s)
        with self._lock:
            self._frame = None

    def __enter__(self) -> CameraFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
