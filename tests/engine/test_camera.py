"""The kiosk's camera feed, with a video file as the camera."""

from __future__ import annotations

import pytest

from photoflux_desktop.engine import lazy
from photoflux_desktop.engine.camera import parse_source
from photoflux_desktop.engine.errors import ErrorKind, PhotoFluxError
from tests.kiosk_video import COLOUR_RGB, HEIGHT, WIDTH, write_camera_video


def test_a_video_file_feeds_rgb_frames_and_loops(tmp_path):
    video = write_camera_video(tmp_path / "camera.avi", frames=4, fps=200)
    with lazy.camera_feed(str(video)) as feed:
        assert feed.wait_first_frame()
        photo = feed.snapshot()
        assert photo.size == (WIDTH, HEIGHT)
        r, _, b = photo.getpixel((WIDTH - 10, HEIGHT - 10))
        # OpenCV's BGR became RGB (MJPEG is lossy: near, not equal)
        assert abs(r - COLOUR_RGB[0]) < 12 and abs(b - COLOUR_RGB[2]) < 12
        # the file loops like a live camera instead of running dry after 4 frames
        while feed.frames_read <= 8:
            assert feed.running, feed.error
        assert feed.error is None
    assert not feed.running
    assert feed.latest() is None  # closing forgets the last frame


def test_settings_text_is_a_device_index_or_a_file():
    assert parse_source(" 1 ") == 1
    assert str(parse_source("/tmp/cam.avi")) == "/tmp/cam.avi"


def test_a_missing_camera_is_a_bad_input_error(tmp_path):
    with pytest.raises(PhotoFluxError) as missing_file:
        lazy.camera_feed(str(tmp_path / "nope.avi"))
    assert missing_file.value.error.kind is ErrorKind.BAD_INPUT
    not_a_video = tmp_path / "notes.avi"
    not_a_video.write_text("not a video")
    with pytest.raises(PhotoFluxError) as unreadable:
        lazy.camera_feed(str(not_a_video))
    assert "could not be opened" in unreadable.value.error.message
