"""The labels file of a bias audit: which photo belongs to which groups.

A CSV with a header row: a `file` column (a photo's name, relative to the audit folder)
and one or more group columns named as the studio labels its set (skin_tone, age, gender,
...). Every problem is reported at once with its line number, so a studio fixes the file in
one go rather than one error per run.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from photoflux_desktop.engine.errors import bad_input

FILE_COLUMN = "file"
UNLABELLED = "(unlabelled)"
MAX_LABELS_BYTES = 4 * 1024 * 1024
MAX_SHOWN_PROBLEMS = 8


@dataclass(frozen=True)
class LabelledPhoto:
    path: Path
    groups: dict[str, str]  # column -> group, e.g. {"skin_tone": "V", "age": "30-45"}


def read_labels(labels: Path, folder: Path) -> tuple[list[str], list[LabelledPhoto]]:
    """(group columns, labelled photos) from `labels`; bad input says every problem."""
    if not folder.is_dir():
        raise bad_input(f"{folder} is not a folder.", "Pass the folder that holds the photos.")
    rows = _rows(labels)
    header = [name.strip() for name in rows[0]]
    columns = [name for name in header if name and name != FILE_COLUMN]
    problems = _header_problems(header, columns)
    if problems:
        _refuse(labels, problems)
    file_at = header.index(FILE_COLUMN)
    photos: list[LabelledPhoto] = []
    seen: set[Path] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        name = row[file_at].strip() if len(row) > file_at else ""
        problem = _file_problem(name, folder, seen)
        if problem:
            problems.append(f"line {number}: {problem}")
            continue
        path = (folder / name).resolve()
        seen.add(path)
        groups = {column: cells.get(column) or UNLABELLED for column in columns}
        photos.append(LabelledPhoto(path, groups))
    if not photos and not problems:
        problems.append("it lists no photos")
    if problems:
        _refuse(labels, problems)
    return columns, photos


def _rows(labels: Path) -> list[list[str]]:
    try:
        if labels.stat().st_size > MAX_LABELS_BYTES:
            raise bad_input(f"{labels} is larger than 4 MB; a labels file is one line a photo.")
        text = labels.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise bad_input(f"The labels file {labels} does not exist.", _FORMAT_HINT) from None
    except UnicodeDecodeError:
        raise bad_input(f"{labels} is not a UTF-8 text file.", _FORMAT_HINT) from None
    except OSError as exc:
        raise bad_input(f"{labels} cannot be read ({exc.strerror}).", _FORMAT_HINT) from None
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise bad_input(f"{labels} is not a valid CSV file ({exc}).", _FORMAT_HINT) from None
    if not rows:
        raise bad_input(f"{labels} is empty.", _FORMAT_HINT)
    return rows


def _header_problems(header: list[str], columns: list[str]) -> list[str]:
    problems = []
    if FILE_COLUMN not in header:
        problems.append(
            f"the first line has no '{FILE_COLUMN}' column (it reads: {', '.join(header)[:120]})"
        )
    if not columns:
        problems.append("it has no group column besides 'file' (e.g. skin_tone, age, gender)")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        problems.append(f"columns named twice: {', '.join(duplicates)}")
    return problems


def _file_problem(name: str, folder: Path, seen: set[Path]) -> str | None:
    if not name:
        return "the file name is empty"
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()):
        return f"'{name}' is outside the audit folder"
    if not path.is_file():
        return f"'{name}' is not in {folder}"
    if path in seen:
        return f"'{name}' is listed twice"
    return None


def _refuse(labels: Path, problems: list[str]) -> None:
    shown = problems[:MAX_SHOWN_PROBLEMS]
    more = len(problems) - len(shown)
    tail = f"; and {more} more" if more else ""
    raise bad_input(f"{labels} cannot be used: " + "; ".join(shown) + tail + ".", _FORMAT_HINT)


_FORMAT_HINT = (
    "The labels file is a CSV whose first line names the columns: 'file', then one column "
    "per grouping, e.g. `file,skin_tone,age`; then one line a photo, e.g. "
    "`anna.jpg,V,30-45`, with file names relative to the audit folder."
)
