"""`photoflux check DIR` and `photoflux audit DIR --labels`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from photoflux_desktop.cli import main
from photoflux_desktop.engine.local_renderer import LocalRenderer
from photoflux_desktop.engine.output import write_image
from photoflux_desktop.engine.provenance import build_record, result_record
from photoflux_desktop.engine.request import RenderRequest

DATA = Path(__file__).parent.parent / "data"


def photoflux(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "photoflux_desktop", *argv],
        capture_output=True,
        text=True,
        timeout=180,
    )


def one_json(proc: subprocess.CompletedProcess) -> dict:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(lines[0])


def _render_to(folder: Path, photo: Image.Image, style: str, name: str) -> None:
    request = RenderRequest(image=photo, style_id=style, model="instant", seed=2, max_side=384)
    result = LocalRenderer().render(request)
    write_image(result.image, folder / name, result_record(result))


def test_check_reports_each_image_each_style_and_survives_broken_files(tmp_path, astronaut):
    photo = astronaut.resize((384, 384))
    _render_to(tmp_path, photo, "watercolor", "a-watercolor.jpg")
    _render_to(tmp_path, photo, "pop-art", "b-pop-art.png")
    # a plain photo that claims to be a pencil sketch: far from that style's signature
    write_image(photo, tmp_path / "c-claims-sketch.png", build_record(style="pencil-sketch"))
    Image.new("RGB", (64, 64)).save(tmp_path / "d-black.png")  # no metadata, black
    (tmp_path / "e-broken.jpg").write_bytes((DATA / "rocket.jpg").read_bytes()[:4000])
    (tmp_path / "f-text.png").write_text("not a picture\n")
    (tmp_path / "notes.txt").write_text("ignored: not an image name")

    proc = photoflux("check", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    report = one_json(proc)
    images = {Path(item["path"]).name: item for item in report["images"]}
    assert set(images) == {
        "a-watercolor.jpg", "b-pop-art.png", "c-claims-sketch.png", "d-black.png",
        "e-broken.jpg", "f-text.png",
    }  # fmt: skip
    assert images["a-watercolor.jpg"]["style"] == "watercolor"
    assert images["a-watercolor.jpg"]["flagged"] == []
    # the checks the render recorded travel with the file and are reported too
    assert any(c["name"] == "blur" for c in images["a-watercolor.jpg"]["recorded_checks"])
    assert images["c-claims-sketch.png"]["flagged"] == ["style_consistency"]
    assert "black_frame" in images["d-black.png"]["flagged"]
    assert images["d-black.png"]["style"] is None
    for broken in ("e-broken.jpg", "f-text.png"):
        assert not images[broken]["ok"] and images[broken]["error"]["kind"] == "bad_input"
    styles = report["styles"]
    assert styles["watercolor"]["consistency"]["flagged"] == 0
    assert styles["pencil-sketch"]["consistency"]["flagged"] == 1
    assert styles["(no PhotoFlux metadata)"]["consistency"] == "not measured"
    likeness = styles["watercolor"]["recorded_likeness"]  # once the likeness check exists
    assert likeness == "not measured" or 0 <= likeness["mean"] <= 1
    assert report["summary"] == {"images": 6, "unreadable": 2, "flagged": 2}

    human = photoflux("check", str(tmp_path))
    assert human.returncode == 0 and "Traceback" not in human.stderr
    assert "e-broken.jpg: unreadable" in human.stdout
    assert "c-claims-sketch.png (pencil-sketch): FLAGGED" in human.stdout


def test_check_refuses_what_is_not_a_folder_of_images(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "missing", tmp_path / "empty"):
        assert main(["check", str(target), "--json"]) == 2
        assert json.loads(capsys.readouterr().out)["error"]["kind"] == "bad_input"


def _audit_set(tmp_path: Path) -> Path:
    for name in ("astronaut.png", "chelsea.jpg"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    labels = tmp_path / "labels.csv"
    labels.write_text("file,subject\nastronaut.png,person\nchelsea.jpg,cat\n")
    return labels


def test_audit_reports_per_group_and_style(tmp_path):
    labels = _audit_set(tmp_path)
    out = tmp_path / "renders"
    proc = photoflux(
        "audit", str(tmp_path), "--labels", str(labels), "--styles", "watercolor,anime",
        "--model", "instant", "--max-side", "512", "--out", str(out), "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = one_json(proc)
    assert report["photos"] == 2 and report["styles"] == ["watercolor", "anime"]
    person, cat = report["groups"]["subject"]["person"], report["groups"]["subject"]["cat"]
    assert person["renders"] == 2 and cat["renders"] == 2
    # the portrait has a face, the cat photo none (dlib's detector is a project dependency)
    assert person["no_face_in_photo_rate"] == 0.0 and cat["no_face_in_photo_rate"] == 1.0
    assert cat["face_lost_rate"] == "not measured"  # no face to lose
    for entry in (person, cat, person["by_style"]["anime"]):
        # measured once the likeness / NSFW checks are installed, never a made-up zero
        assert entry["likeness"] == "not measured" or 0 <= entry["likeness"]["min"] <= 1
        assert entry["nsfw_flag_rate"] == "not measured" or 0 <= entry["nsfw_flag_rate"] <= 1
        assert isinstance(entry["failed_checks"], dict)
    assert len(report["renders"]) == 4 and report["errors"] == []
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "anime/astronaut.png", "anime/chelsea.png",
        "watercolor/astronaut.png", "watercolor/chelsea.png",
    ]  # fmt: skip


def test_audit_refuses_a_broken_labels_file_naming_every_problem(tmp_path, capsys):
    labels = _audit_set(tmp_path)
    labels.write_text("file,tone\nastronaut.png,I\nmissing.jpg,II\n../x.png,III\n")
    proc = photoflux("audit", str(tmp_path), "--labels", str(labels), "--model", "instant")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "line 3: 'missing.jpg' is not in" in proc.stderr
    assert "line 4: '../x.png' is outside the audit folder" in proc.stderr
    labels.write_text("name,tone\nastronaut.png,I\n")
    assert main(["audit", str(tmp_path), "--labels", str(labels), "--json"]) == 2
    assert "no 'file' column" in json.loads(capsys.readouterr().out)["error"]["message"]


def test_help_lists_check_and_audit(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "check" in out and "audit" in out
    assert main(["audit", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--labels" in out and "not measured" in out
