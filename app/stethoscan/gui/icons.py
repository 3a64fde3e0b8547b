"""Icons from ``resources/icons`` (small SVGs drawn for Stethoscan), cached by name."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from stethoscan.core import paths


@cache
def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon if it is missing)."""
    path = paths.resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
