"""Checks of ``--out`` paths before a command does its work, with a sentence saying what to do.

The checks run before any slow reading or computing, so a typo in ``--out`` costs nothing.
Problems found only while writing (permissions, a full disk) are turned into a sentence by
``stethoscan.cli.main``.
"""

from __future__ import annotations

from pathlib import Path

from stethoscan.core.errors import ValidationError


def check_output_folder(path: Path, option: str = "--out") -> Path:
    """``path`` must be a folder or not exist yet (it is then created when writing)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValidationError(
            f"{option} {path} is a file, but {option} needs a folder to write into: choose a "
            "new folder name or an existing folder."
        )
    _check_ancestors(path, option)
    return path


def check_output_file(path: Path, option: str = "--out", example: str = "image.png") -> Path:
    """``path`` must name a file (new or to overwrite) in a folder that exists."""
    path = Path(path)
    if path.is_dir():
        raise ValidationError(
            f"{option} {path} is a folder: give a file name, for example {path / example}."
        )
    parent = path.parent
    if not parent.exists():
        raise ValidationError(
            f"The folder {parent} for {option} does not exist: create it first or choose "
            "another folder."
        )
    if not parent.is_dir():
        raise ValidationError(f"{option} {path}: {parent} is a file, not a folder; check the path.")
    return path


def _check_ancestors(path: Path, option: str) -> None:
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise ValidationError(
                    f"{option} {path}: {ancestor} is a file, not a folder; check the path."
                )
            return
