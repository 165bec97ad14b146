"""The library keeps each result's source photo, favourites, undoable deletes, and
reads libraries written by the first schema."""

from __future__ import annotations

import json
import os
import sqlite3

from PIL import Image

from photoflux_desktop.engine.library import Library
from tests.engine.test_library_and_settings import result

OLD_SCHEMA = """
CREATE TABLE results (
    id TEXT PRIMARY KEY, created REAL NOT NULL, source_name TEXT NOT NULL,
    style TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL, seed INTEGER,
    params TEXT NOT NULL, image_path TEXT NOT NULL, thumb_path TEXT NOT NULL,
    width INTEGER NOT NULL, height INTEGER NOT NULL
);
CREATE TABLE prompts (text TEXT PRIMARY KEY, last_used REAL NOT NULL,
    uses INTEGER NOT NULL DEFAULT 1);
"""


def photo(colour: tuple[int, int, int], size=(400, 200)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_each_entry_keeps_its_own_source_once_per_distinct_photo(tmp_path):
    library = Library(tmp_path / "lib")
    wide, tall = photo((200, 10, 10), (2400, 1200)), photo((10, 10, 200), (300, 600))
    a = library.add(result(1), "wide.jpg", source=wide)
    b = library.add(result(2), "wide.jpg", source=wide.copy())
    c = library.add(result(3), "tall.png", source=tall)
    assert a.source_key == b.source_key != c.source_key
    assert len(list(library.sources.iterdir())) == 2  # deduplicated by content
    back = Library(tmp_path / "lib").source_image(library.get(c.id))
    assert back.size == (300, 600) and back.getpixel((5, 5))[2] > 150
    assert max(library.source_image(a).size) <= 1536  # a downscaled copy
    groups = {}
    for entry in library.entries():
        groups.setdefault(entry.group_key, []).append(entry.source_name)
    assert sorted(groups.values()) == [["tall.png"], ["wide.jpg", "wide.jpg"]]


def test_trash_hides_restore_brings_back_purge_removes_files(tmp_path):
    library = Library(tmp_path / "lib")
    entry = library.add(result(1), "a.jpg", source=photo((1, 2, 3)))
    library.trash([entry.id])
    assert library.entries() == []
    assert entry.image_path.is_file()  # nothing removed during the undo window
    library.restore([entry.id])
    assert [e.id for e in library.entries()] == [entry.id]
    library.trash([entry.id])
    assert library.purge() == 1
    assert not entry.image_path.exists() and not entry.thumb_path.exists()
    assert list(library.sources.iterdir()) == []  # the orphaned source copy went too


def test_favourites_persist(tmp_path):
    library = Library(tmp_path / "lib")
    entry = library.add(result(1), "a.jpg")
    library.set_favourite(entry.id, True)
    assert Library(tmp_path / "lib").get(entry.id).favourite


def test_results_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        entry = Library(tmp_path / "lib").add(result(1), "a.jpg", source=photo((1, 1, 1)))
    finally:
        os.umask(old)
    assert entry.image_path.stat().st_mode & 0o777 == 0o644


def test_an_old_schema_library_opens_and_gains_the_new_columns(tmp_path):
    root = tmp_path / "lib"
    (root / "results").mkdir(parents=True)
    image = root / "results" / "old.png"
    Image.new("RGB", (64, 64), "red").save(image)
    with sqlite3.connect(root / "library.sqlite3") as db:
        db.executescript(OLD_SCHEMA)
        db.execute(
            "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                "old1",
                1.0,
                "holiday.jpg",
                "comic",
                "instant",
                "instant:cartoon",
                7,
                json.dumps({"style": "comic"}),
                str(image),
                str(image),
                64,
                64,
            ),
        )
    library = Library(root)
    [entry] = library.entries()
    assert entry.source_name == "holiday.jpg" and entry.source_key == ""
    assert library.source_image(entry) is None and entry.group_key == "name:holiday.jpg"
    library.set_favourite("old1", True)
    assert library.get("old1").favourite
    new = library.add(result(2), "new.jpg", source=photo((9, 9, 9)))
    assert [e.id for e in library.entries()] == [new.id, "old1"]
    with sqlite3.connect(root / "library.sqlite3") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_restored_source_keeps_its_group(tmp_path):
    library = Library(tmp_path / "lib")
    big = Image.effect_noise((2000, 1000), 40).convert("RGB")
    first = library.add(result(1), "noise.jpg", source=big)
    restored = library.source_image(first)
    again = library.add(result(2), "noise.jpg", source=restored)
    assert again.source_key == first.source_key
