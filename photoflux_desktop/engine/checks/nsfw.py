"""NSFW screening of every input photo and every output, behind a small interface.

The detector is NudeNet (`nudenet`, its ONNX model ships in the wheel). Its licence is
disputed upstream (the wheel says MIT; its maintainer believes its YOLO base makes it
AGPL), so nothing outside this module knows it: a detector is anything with
`detect(image) -> list[Detection]`, registered by name in `DETECTORS` (or named as
"package.module:factory"), and the settings' `nsfw_detector` picks one (README: "NSFW
screening").

A screen that cannot run is a failed check whose value is None ("could not screen"),
never a pass; a flagged check has the highest flagged score as its value.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
from PIL import Image

from photoflux_desktop.engine.checks import CheckResult
from photoflux_desktop.engine.settings import DEFAULT_NSFW_CLASSES

# what counts by default: exposed genitalia, breasts, buttocks and anus (NudeNet's
# names). Covered parts, faces, feet, belly and armpits never flag on their own.
DEFAULT_CLASSES = DEFAULT_NSFW_CLASSES
# NudeNet scores the test photos at most 0.30 in a flagged class (a coffee cup read as
# buttocks); real exposure scores 0.6 and up
DEFAULT_THRESHOLD = 0.5
DEFAULT_DETECTOR = "nudenet"
# the long side the detector is given: NudeNet works at 320 px, so a larger frame
# only costs time in its own resize
DETECT_SIDE = 640


class Detection(NamedTuple):
    label: str  # the detector's class name
    score: float  # 0-1
    box: tuple[int, int, int, int]  # left, top, width, height in the image's pixels


class NsfwDetector(Protocol):
    def detect(self, image: Image.Image) -> list[Detection]: ...


class NsfwError(RuntimeError):
    """The detector could not load or run: the image is unscreened, not safe."""


@dataclass(frozen=True)
class NsfwPolicy:
    """Which classes count and from what score (Settings.nsfw_*)."""

    classes: tuple[str, ...] = DEFAULT_CLASSES
    threshold: float = DEFAULT_THRESHOLD
    detector: str = DEFAULT_DETECTOR

    @classmethod
    def from_settings(cls, settings: Any) -> NsfwPolicy:
        return cls(
            classes=tuple(settings.nsfw_classes),
            threshold=float(settings.nsfw_threshold),
            detector=str(settings.nsfw_detector),
        )


def settings_policy() -> NsfwPolicy:
    """The policy in the settings file (the CLI, the kiosk, `photoflux check`)."""
    from photoflux_desktop.engine.settings import load_settings

    return NsfwPolicy.from_settings(load_settings()[0])


def screen_output(image: Image.Image) -> CheckResult:
    """The "nsfw_output" check of a lone image under the settings' policy."""
    return screen(image, "nsfw_output", settings_policy())


class NudeNetDetector:
    """NudeNet's bundled 320 px ONNX detector; onnxruntime sessions are thread-safe."""

    def __init__(self, model_path: str | None = None) -> None:
        try:
            from nudenet import NudeDetector
        except ImportError as exc:
            raise NsfwError(f"the NudeNet package is not installed ({exc.name})") from exc
        try:
            self._detector = NudeDetector(model_path=model_path)
        except Exception as exc:  # onnxruntime raises its own types for a bad/missing file
            raise NsfwError(f"the NudeNet model could not be loaded ({exc})") from exc

    def detect(self, image: Image.Image) -> list[Detection]:
        scale = min(1.0, DETECT_SIDE / max(image.size))
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.BILINEAR)
        # RGBA on purpose: NudeNet converts RGBA->BGR and its blob swaps back to RGB, the
        # order the model was trained on (3-channel input would reach it as BGR)
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGBA")))
        found = self._detector.detect(pixels)
        return [
            Detection(
                str(item["class"]),
                float(item["score"]),
                tuple(round(v / scale) for v in item["box"]),  # type: ignore[arg-type]
            )
            for item in found
        ]


# name -> factory; a second detector is one more entry (README: how to plug one in)
DETECTORS: dict[str, Callable[[], NsfwDetector]] = {"nudenet": NudeNetDetector}


@dataclass
class _Loaded:
    detectors: dict[str, NsfwDetector] = field(default_factory=dict)
    load_s: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    registrations: int = 0


_loaded = _Loaded()


def register_detector(name: str, factory: Callable[[], NsfwDetector]) -> None:
    """Adds (or replaces) a detector by name; a loaded one of that name is dropped."""
    with _loaded.lock:
        DETECTORS[name] = factory
        _loaded.detectors.pop(name, None)
        _loaded.registrations += 1


def registrations() -> int:
    """How many detectors were registered so far: remembered answers (safety.py) from
    before a (re-)registration are not reused."""
    return _loaded.registrations


def get_detector(name: str = DEFAULT_DETECTOR) -> NsfwDetector:
    """The named detector, loaded once (lazily, under a lock). Raises NsfwError."""
    with _loaded.lock:
        if name not in _loaded.detectors:
            factory = DETECTORS.get(name) or _imported_factory(name)
            started = time.perf_counter()
            _loaded.detectors[name] = factory()  # a failure is not cached: the next try reloads
            _loaded.load_s[name] = time.perf_counter() - started
        return _loaded.detectors[name]


def _imported_factory(name: str) -> Callable[[], NsfwDetector]:
    """A detector outside this package, named "package.module:factory" in settings."""
    module_name, _, attribute = name.partition(":")
    if not attribute:
        known = ", ".join(sorted(DETECTORS))
        raise NsfwError(f"no NSFW detector named '{name}' (known: {known}, or module:factory)")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise NsfwError(f"the NSFW detector '{name}' could not be imported ({exc})") from exc


def load_time(name: str = DEFAULT_DETECTOR) -> float | None:
    """Seconds the named detector took to load, None when it was not loaded."""
    return _loaded.load_s.get(name)


def preload_in_background(name: str = DEFAULT_DETECTOR) -> None:
    """Load the detector (~2 s for NudeNet) while a render runs; errors surface later."""

    def load() -> None:
        with contextlib.suppress(NsfwError):  # the check itself reports it
            get_detector(name)

    threading.Thread(target=load, name="nsfw-detector-load", daemon=True).start()


def screen(image: Image.Image, check_name: str, policy: NsfwPolicy | None = None) -> CheckResult:
    """One NSFW check ("nsfw_input" / "nsfw_output") of `image` under `policy`."""
    policy = policy or NsfwPolicy()
    started = time.perf_counter()
    try:
        detections = get_detector(policy.detector).detect(image)
    except Exception as exc:  # any failure means "not screened": never a pass
        reason = str(exc) if isinstance(exc, NsfwError) else f"{type(exc).__name__}: {exc}"
        return CheckResult(
            check_name,
            False,
            None,
            policy.threshold,
            f"Could not screen for sensitive content: {reason}.",
            time.perf_counter() - started,
        )
    flagged = flagged_classes(detections, policy)
    value = max(flagged.values(), default=0.0)
    if flagged:
        names = ", ".join(f"{_plain(label)} ({score:.0%})" for label, score in flagged.items())
        reason = f"Sensitive content: {names}."
    else:
        reason = "No sensitive content found."
    return CheckResult(
        check_name, not flagged, value, policy.threshold, reason, time.perf_counter() - started
    )


def flagged_classes(detections: Iterable[Detection], policy: NsfwPolicy) -> dict[str, float]:
    """The policy's classes at or above its threshold, each with its highest score."""
    found: dict[str, float] = {}
    for item in detections:
        if item.label in policy.classes and item.score >= policy.threshold:
            found[item.label] = max(found.get(item.label, 0.0), item.score)
    return dict(sorted(found.items(), key=lambda pair: -pair[1]))


def is_flagged(check: dict[str, Any]) -> bool:
    """An NSFW check (as a result stores it) that found sensitive content."""
    return (
        str(check.get("name", "")).startswith("nsfw")
        and not check.get("passed", True)
        and check.get("value") is not None
    )


def _plain(label: str) -> str:
    return label.lower().replace("_", " ")
