"""Preparing a folder of photos for training: intake, checks, crops and captions.

Photos come in through the engine intake (formats, EXIF orientation, sRGB, limits),
are checked (`photo_checks`), cropped square around the subject (the face, for a
person) at the model's resolution and captioned. A caption is the text of a sidecar
file next to the photo (`photo.txt` for `photo.jpg`, the kohya/FluxGym convention)
when there is one, else "a photo of TOKEN CLASS"; `write_dataset` saves the crops
with their captions as such pairs, so a user can edit the captions and train on that
folder again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from photoflux_desktop.engine.errors import PhotoFluxError, bad_input
from photoflux_desktop.engine.intake import load_photo
from photoflux_desktop.engine.training import photo_checks
from photoflux_desktop.engine.training.augment import AugmentOptions

MIN_PHOTOS, IDEAL_PHOTOS, MAX_PHOTOS = 3, (4, 30), 30
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}
DEFAULT_TOKEN = "ohwx"  # rare in CLIP's vocabulary, so it starts with little meaning
DEFAULT_CLASS = "person"
CHECK_SIDE = 1024  # photos are checked at up to this size whatever the model's resolution
FACE_SHARE = 0.45  # a person's face fills this share of the crop's side (head and shoulders)


@dataclass(frozen=True)
class DatasetOptions:
    token: str = DEFAULT_TOKEN
    class_word: str = DEFAULT_CLASS
    resolution: int = 512
    augment: AugmentOptions = field(default_factory=AugmentOptions)
    caption_template: str = "a photo of {token} {class_word}"

    def __post_init__(self) -> None:
        if not self.token.strip() or " " in self.token.strip():
            raise bad_input(f"The instance token '{self.token}' must be one word.", field="token")
        if not self.class_word.strip():
            raise bad_input("The class word is empty.", "Say what the subject is: person, dog…")

    def default_caption(self) -> str:
        return self.caption_template.format(token=self.token, class_word=self.class_word)


@dataclass(frozen=True)
class PhotoReport:
    path: str
    size: tuple[int, int] | None
    issues: tuple[photo_checks.Issue, ...]
    caption: str = ""

    @property
    def used(self) -> bool:
        return not any(issue.blocking for issue in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": list(self.size) if self.size else None,
            "used": self.used,
            "caption": self.caption,
            "issues": [issue.to_dict() for issue in self.issues],
        }


@dataclass(frozen=True, eq=False)
class TrainingItem:
    source: str
    image: Image.Image  # square, options.resolution px
    caption: str


@dataclass(frozen=True, eq=False)
class PreparedDataset:
    items: tuple[TrainingItem, ...]
    reports: tuple[PhotoReport, ...]
    notes: tuple[str, ...]
    options: DatasetOptions

    def to_dict(self) -> dict[str, Any]:
        return {
            "used": len(self.items),
            "photos": [report.to_dict() for report in self.reports],
            "notes": list(self.notes),
            "token": self.options.token,
            "class_word": self.options.class_word,
            "resolution": self.options.resolution,
        }


def photo_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise bad_input(f"--images {folder} is not a folder.", "Pass a folder of photos.")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def count_note(count: int) -> str | None:
    """FluxGym's advice: 4-30 photos; fewer cannot show variety, more rarely helps."""
    if count < MIN_PHOTOS:
        raise bad_input(
            f"{count} usable photo(s); training needs at least {MIN_PHOTOS}.",
            f"Add photos of the subject: {IDEAL_PHOTOS[0]}-{IDEAL_PHOTOS[1]} is ideal.",
        )
    if count < IDEAL_PHOTOS[0]:
        return (
            f"{count} photos is fewer than ideal ({IDEAL_PHOTOS[0]}-{IDEAL_PHOTOS[1]}): "
            "the result may copy these pictures."
        )
    if count > MAX_PHOTOS:
        raise bad_input(
            f"{count} photos is more than {MAX_PHOTOS}; more rarely helps and costs time.",
            f"Pick the {MAX_PHOTOS} best: sharp, varied, the subject alone.",
        )
    return None


def prepare_dataset(folder: Path, options: DatasetOptions) -> PreparedDataset:
    files = photo_files(folder)
    if len(files) > MAX_PHOTOS:
        count_note(len(files))  # raises
    person = photo_checks.is_person(options.class_word)
    reports: list[PhotoReport] = []
    items: list[TrainingItem] = []
    hashes: dict[str, int] = {}
    for path in files:
        report, item, hash_value = _prepare_one(path, options, person, hashes)
        reports.append(report)
        if item is not None and hash_value is not None:
            items.append(item)
            hashes[path.name] = hash_value
    notes = [] if len(items) < MIN_PHOTOS else [n for n in (count_note(len(items)),) if n]
    variety = photo_checks.variety_note(list(hashes.values()))
    if variety:
        notes.append(variety)
    return PreparedDataset(tuple(items), tuple(reports), tuple(notes), options)


def _prepare_one(
    path: Path, options: DatasetOptions, person: bool, earlier: dict[str, int]
) -> tuple[PhotoReport, TrainingItem | None, int | None]:
    try:
        # room for an off-centre crop, and faces large enough for the detector
        photo = load_photo(path, max_side=max(options.resolution * 2, CHECK_SIDE))
    except PhotoFluxError as exc:
        issue = photo_checks.Issue("unreadable", True, exc.error.message)
        return PhotoReport(str(path), None, (issue,)), None, None
    image = photo.image
    issues = [
        issue
        for issue in (
            photo_checks.check_resolution(photo.original_size, options.resolution),
            photo_checks.check_blur(image),
        )
        if issue
    ]
    boxes: list[photo_checks.Box] = []
    if person:
        face_issue, boxes = photo_checks.check_faces(image)
        issues += [face_issue] if face_issue else []
    hash_value = photo_checks.dhash(image)
    twin = photo_checks.duplicate_of(hash_value, earlier)
    if twin is not None:
        issues.append(
            photo_checks.Issue(
                "duplicate",
                True,
                f"Nearly the same picture as {twin}; duplicates make the model copy it. "
                "Keep one, or add a different photo.",
            )
        )
    caption = read_caption(path, options)
    report = PhotoReport(str(path), photo.original_size, tuple(issues), caption)
    if not report.used:
        return report, None, None
    crop = subject_crop(image, boxes[0] if len(boxes) == 1 else None, options.resolution)
    return report, TrainingItem(str(path), crop, caption), hash_value


def read_caption(path: Path, options: DatasetOptions) -> str:
    """The sidecar caption, with the token and class put first if the user left them out."""
    sidecar = path.with_suffix(".txt")
    try:
        text = " ".join(sidecar.read_text("utf-8").split())
    except (OSError, UnicodeDecodeError):
        text = ""
    if not text:
        return options.default_caption()
    if options.token not in text.split():
        text = f"{options.token} {options.class_word}, {text}"
    return text


def subject_crop(image: Image.Image, face: photo_checks.Box | None, resolution: int) -> Image.Image:
    """A square around the subject: the face (with head room) for a person, else the
    centre, as large as the photo allows; then resized to `resolution`."""
    width, height = image.size
    side = min(width, height)
    if face is not None:
        left, top, right, bottom = face
        face_side = max(right - left, bottom - top)
        side = min(side, max(round(face_side / FACE_SHARE), resolution // 2))
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2 + face_side * 0.3
    else:
        centre_x, centre_y = width / 2, height / 2
    x0 = int(min(max(centre_x - side / 2, 0), width - side))
    y0 = int(min(max(centre_y - side / 2, 0), height - side))
    crop = image.crop((x0, y0, x0 + side, y0 + side))
    return crop.resize((resolution, resolution), Image.Resampling.LANCZOS)


def require_enough(dataset: PreparedDataset) -> None:
    """Refuse to train on fewer than MIN_PHOTOS usable photos, naming what was wrong."""
    if len(dataset.items) >= MIN_PHOTOS:
        return
    left_out = [f"{Path(r.path).name}: {r.issues[0].advice}" for r in dataset.reports if not r.used]
    reasons = (" Left out: " + " ".join(left_out)) if left_out else ""
    raise bad_input(
        f"{len(dataset.items)} usable photo(s) of {len(dataset.reports)}; training needs at "
        f"least {MIN_PHOTOS}.{reasons}",
        f"Add sharp, varied photos of the subject: {IDEAL_PHOTOS[0]}-{IDEAL_PHOTOS[1]} is ideal.",
        photos=[r.to_dict() for r in dataset.reports],
    )


def write_dataset(dataset: PreparedDataset, folder: Path) -> Path:
    """Crops and captions as `NNN.png` + `NNN.txt`: editable, and trainable again."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, item in enumerate(dataset.items):
        item.image.save(folder / f"{index:03d}.png")
        (folder / f"{index:03d}.txt").write_text(item.caption + "\n", encoding="utf-8")
    return folder
