from __future__ import annotations

import json
import sqlite3

import pytest
from PIL import Image

from photoflux_desktop.engine.library import Library
from photoflux_desktop.engine.request import RenderParameters, RenderResult, Status
from photoflux_desktop.engine.settings import Settings, load_settings, save_settings
from photoflux_desktop.engine.verify import verify_image


def result(seed: int = 1, style: str = "comic") -> RenderResult:
    return RenderResult(
        Status.COMPLETED,
        Image.new("RGB", (300, 280), (seed * 40 % 255, 90, 30)),
        RenderParameters(
            style=style, backend="instant", model="instant:cartoon", seed=seed, subject="a cat"
        ),
    )


def test_library_stores_lists_newest_first_and_survives_reopening(tmp_path):
    library = Library(tmp_path / "lib")
    first = library.add(result(1), "one.jpg")
    second = library.add(result(2, "pop-art"), "two.jpg")
    again = Library(tmp_path / "lib")
    assert [e.id for e in again.entries()] == [second.id, first.id]
    stored = again.get(first.id)
    assert stored.params == result(1).parameters  # the same typed record comes back
    assert stored.image_path.is_file() and stored.thumb_path.is_file()
    assert max(Image.open(stored.thumb_path).size) <= 256
    assert verify_image(stored.image_path).made_by_photoflux  # results carry provenance


def test_library_uses_wal_and_delete_removes_files(tmp_path):
    library = Library(tmp_path / "lib")
    entry = library.add(result(), "x.png")
    with sqlite3.connect(library.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert library.delete(entry.id)
    assert not entry.image_path.exists() and not entry.thumb_path.exists()
    assert library.get(entry.id) is None and not library.delete(entry.id)


def test_library_refuses_results_without_an_image(tmp_path):
    cancelled = RenderResult(
        Status.CANCELLED, None, RenderParameters(style="comic", backend="diffusion", model="m")
    )
    with pytest.raises(ValueError, match="completed results"):
        Library(tmp_path / "lib").add(cancelled, "x")


def test_prompt_history_is_deduplicated_most_recent_first(tmp_path):
    library = Library(tmp_path / "lib")
    for text in ("a knight", "a  sailor ", "a knight", ""):
        library.remember_prompt(text)
    assert library.prompts() == ["a knight", "a sailor"]


def test_settings_round_trip_and_damaged_file(tmp_path):
    path = tmp_path / "settings.json"
    assert load_settings(path) == (Settings(), None)
    save_settings(Settings(theme="light", quantize="int8"), path)
    loaded, note = load_settings(path)
    assert loaded.theme == "light" and loaded.quantize == "int8" and note is None
    path.write_text(json.dumps({"theme": "purple"}))
    loaded, note = load_settings(path)
    assert loaded == Settings() and "damaged" in note
    assert (tmp_path / "settings.json.bad").is_file()


@pytest.mark.parametrize(
    ("old_params", "expected"),
    [
        (  # an instant row from before the typed record
            {
                "style": "comic",
                "instant_style": "cartoon",
                "amount": 0.6,
                "subject": "a cat",
                "width": 300,
                "height": 280,
                "model": "instant:cartoon",
                "backend": "instant",
                "seed": 5,
            },
            {"strength": 0.6, "render_width": 300, "instant_style": "cartoon", "seed": 5},
        ),
        (  # a diffusion row: LoRAs were a list of paths
            {
                "style": "comic",
                "family": "sd",
                "subject": "",
                "prompt": "comic, a cat",
                "steps": 4,
                "denoising_steps": 3,
                "strength": 0.75,
                "guidance": 1.0,
                "seed": 9,
                "render_width": 96,
                "render_height": 64,
                "steps_run": 3,
                "quantize": "int8",
                "loras": ["/x/a.safetensors"],
                "model": "sd-turbo",
                "backend": "diffusion",
            },
            {"steps": 4, "quantize": "int8", "family": "sd", "model": "sd-turbo"},
        ),
    ],
)
def test_library_still_reads_rows_written_before_the_typed_record(tmp_path, old_params, expected):
    library = Library(tmp_path / "lib")
    entry = library.add(result(), "x.png")
    with sqlite3.connect(library.db_path) as db:
        db.execute("UPDATE results SET params = ? WHERE id = ?", (json.dumps(old_params), entry.id))
    params = Library(tmp_path / "lib").get(entry.id).params
    for key, value in expected.items():
        assert getattr(params, key) == value
    if old_params.get("loras"):
        assert [lora.path for lora in params.loras] == ["/x/a.safetensors"]
        assert params.loras[0].weight == 1.0


def test_each_entry_keeps_its_own_record_and_an_unmarked_master(tmp_path):
    library = Library(tmp_path / "lib")
    big = RenderResult(
        Status.COMPLETED,
        Image.new("RGB", (320, 320), "navy"),
        RenderParameters(style="comic", backend="instant", model="instant:x", seed=7),
    )
    first = library.add(big, "a.jpg")
    second = library.add(result(9, "pop-art"), "b.jpg")
    assert library.record(first)["style"] == "comic" and library.record(first)["seed"] == 7
    assert library.record(second)["style"] == "pop-art" and library.record(second)["seed"] == 9
    # the master is marked on export, so that no image is ever marked twice
    report = verify_image(first.image_path)
    assert report.metadata["invisible_watermark"] is False and not report.watermark.detected
    first.image_path.write_bytes(b"damaged")
    rebuilt = library.record(first)
    assert rebuilt["style"] == "comic" and rebuilt["seed"] == 7
