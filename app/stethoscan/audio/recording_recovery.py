"""Find and recover recordings that were cut off by a crash, a kill or a power loss.

A take being recorded lives in ``<final file>.inprogress/`` (see
:mod:`stethoscan.audio.crash_safe_writer`). Such a folder that no running recorder owns is
recoverable: all complete frames of its raw data are turned into the final file (at most the
last second before the crash is lost, usually nothing).

Public API::

    items = find_recoverable(paths.recordings_dir())   # [RecoverableRecording], oldest first
    item.final_path, item.duration_s, item.rate_hz, item.started_at, item.tags, item.device
    recovered = recover(item)         # RecoverableRecording -> Path of the final file
    discard_recoverable(item)         # the user does not want it
    recover_all(folder, task)         # headless: recover everything under a folder

Call :func:`find_recoverable` at start-up, before any new recording starts: a folder that a
running recorder is writing looks exactly like an abandoned one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stethoscan.audio.crash_safe_writer import (
    IN_PROGRESS_SUFFIX,
    JOURNAL_NAME,
    RecordingJournal,
    final_path_of,
    finalize_folder,
    raw_frames_on_disk,
)
from stethoscan.core.errors import AudioError


@dataclass(frozen=True)
class RecoverableRecording:
    """An unsaved take found on disk. Duration in s (all complete frames), rate in Hz."""

    folder: Path
    final_path: Path
    rate_hz: int
    channels: int
    frames: int
    frames_synced: int
    device: str
    started_at: str
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz if self.rate_hz else 0.0


def find_recoverable(root: str | Path) -> list[RecoverableRecording]:
    """Every unsaved take under ``root`` (searched recursively), oldest first.

    ``root`` may also be an in-progress folder itself. Folders whose journal is unreadable are
    skipped (they hold no usable audio: the journal is written before any sound).
    """
    root = Path(root)
    if not root.exists():
        return []
    if root.name.endswith(IN_PROGRESS_SUFFIX):
        candidates = [root]
    else:
        candidates = sorted(p for p in root.rglob("*" + IN_PROGRESS_SUFFIX) if p.is_dir())
    items = [item for item in map(_describe, candidates) if item is not None]
    return sorted(items, key=lambda item: item.started_at)


def _describe(folder: Path) -> RecoverableRecording | None:
    try:
        journal = RecordingJournal.load(folder)
    except (OSError, ValueError, TypeError, json.JSONDecodeError):
        return None
    return RecoverableRecording(
        folder=folder,
        final_path=final_path_of(folder),
        rate_hz=journal.rate_hz,
        channels=journal.channels,
        frames=raw_frames_on_disk(folder, journal.channels),
        frames_synced=journal.frames_synced,
        device=journal.device,
        started_at=journal.started_at,
        tags=dict(journal.tags),
    )


def recover(item: RecoverableRecording, final_path: Path | None = None) -> Path:
    """Write the final audio file of an unsaved take and remove its folder; return the file.

    If a file already exists at the final path (a previous take of the same name), the
    recovered one gets a ``-recovered`` suffix instead of replacing it.
    """
    target = final_path or item.final_path
    if target.exists():
        target = _free_name(target)
    if not (item.folder / JOURNAL_NAME).exists():
        raise AudioError(f"The unsaved recording {item.folder.name} is no longer there.")
    if raw_frames_on_disk(item.folder, item.channels) == 0:
        discard_recoverable(item)
        raise AudioError(
            f"The unsaved recording {item.final_path.name} held no sound; it was removed."
        )
    return finalize_folder(item.folder, target)


def discard_recoverable(item: RecoverableRecording) -> None:
    """Delete an unsaved take the user does not want."""
    shutil.rmtree(item.folder, ignore_errors=True)


def recover_all(root: str | Path, task: Any = None) -> list[tuple[RecoverableRecording, Path | str]]:
    """Recover every unsaved take under ``root``: ``(item, final path or error message)`` each.

    One take that cannot be recovered never stops the others.
    """
    items = find_recoverable(root)
    out: list[tuple[RecoverableRecording, Path | str]] = []
    for index, item in enumerate(items):
        if task is not None:
            task.progress(index / max(len(items), 1), f"recovering {item.final_path.name}")
            task.check_cancelled()
        try:
            out.append((item, recover(item)))
        except AudioError as exc:
            out.append((item, str(exc)))
    if task is not None:
        task.progress(1.0, "done")
    return out


def _free_name(path: Path) -> Path:
    for number in range(1, 1000):
        candidate = path.with_name(f"{path.stem}-recovered{'' if number == 1 else number}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise AudioError(f"Too many recovered copies of {path.name}; move some away and try again.")
