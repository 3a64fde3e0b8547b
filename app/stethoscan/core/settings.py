"""Typed, versioned settings with migrations, stored as JSON in the user config dir.

Load with :func:`load_settings`, change the returned object, save with :func:`save_settings`.
A settings file from an older version is migrated step by step (see ``_MIGRATIONS``); a file
that cannot be read is kept aside as ``settings.json.bad`` and defaults are used.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from stethoscan.core import paths

SETTINGS_VERSION = 2
_log = logging.getLogger(__name__)


class ViewerSettings(BaseModel):
    show_overlay: bool = True
    show_scale_bar: bool = True
    interpolate: bool = True
    cine_fps: float = Field(10.0, gt=0.0, le=60.0)


class AudioSettings(BaseModel):
    host_api: str | None = None
    device: str | None = None  # device name; None = system default
    sample_rate_hz: int = Field(48000, ge=4000, le=192000)
    channels: int = Field(1, ge=1, le=8)
    block_ms: float = Field(10.0, gt=0.0, le=20.0)
    spectrogram_dynamic_range_db: float = Field(80.0, ge=20.0, le=140.0)


class InferenceSettings(BaseModel):
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    cpu_threads: int = Field(0, ge=0, le=256)  # 0 = choose from the core count
    saliency_opacity: float = Field(0.45, ge=0.0, le=1.0)
    saliency_colormap: str = "inferno"


class Settings(BaseModel):
    version: int = SETTINGS_VERSION
    recent_items: list[str] = Field(default_factory=list)
    max_recent_items: int = Field(10, ge=1, le=50)
    last_open_dir: str | None = None
    viewer: ViewerSettings = Field(default_factory=ViewerSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    pacs: dict[str, Any] = Field(default_factory=dict)  # empty = no network access at all

    def add_recent(self, item: str) -> None:
        """Put ``item`` first in the recent list, without duplicates."""
        items = [item] + [x for x in self.recent_items if x != item]
        self.recent_items = items[: self.max_recent_items]


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    # Version 1 stored the audio rate as "audio": {"rate": ...} and recent files as "recent".
    audio = dict(data.get("audio", {}))
    if "rate" in audio:
        audio["sample_rate_hz"] = audio.pop("rate")
    data["audio"] = audio
    if "recent" in data:
        data["recent_items"] = data.pop("recent")
    data["version"] = 2
    return data


_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings dict of any older version up to :data:`SETTINGS_VERSION`."""
    version = int(data.get("version", 1))
    while version < SETTINGS_VERSION:
        data = _MIGRATIONS[version](data)
        version = int(data["version"])
    return data


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings, migrating old files; fall back to defaults if the file is unreadable."""
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Settings.model_validate(migrate(data))
    except (OSError, ValueError, KeyError, ValidationError) as exc:
        _log.warning("Settings file unreadable (%s); using defaults", type(exc).__name__)
        path.replace(path.with_suffix(".json.bad"))
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically (write a temporary file, then rename)."""
    path = path or settings_path()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path)
