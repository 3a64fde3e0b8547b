"""The archive cache: zip archives extracted once, kept while used, pruned when old or too big.

Each opened zip archive is extracted into ``paths.data_dir()/"archive-cache"/<digest>`` (see
:func:`stethoscan.imaging.dicom_sources.extract_archive`). Opening it again touches the
``last-used`` marker inside its folder. :func:`prune_archive_cache` removes folders not used for
``max_age_days`` and then the least recently used ones until the cache fits in ``max_bytes``;
folders in use are never removed. Half-extracted folders (``<digest>.partial-<pid>``) left by a
crash are removed once a day old; folders without a manifest are broken and removed. Logs hold
counts and sizes in MB only: extracted archives are patient data.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stethoscan.core import paths as app_paths

log = logging.getLogger(__name__)

ARCHIVE_CACHE_FOLDER = "archive-cache"
MANIFEST_NAME = "manifest.json"
LAST_USED_MARKER = "last-used"
DEFAULT_MAX_AGE_DAYS = 30.0
DEFAULT_MAX_BYTES = 5 * 1024**3
PARTIAL_MAX_AGE_S = 24 * 3600.0
_DAY_S = 24 * 3600.0
_MB = 1024 * 1024

_FOLDER_NAME = re.compile(r"^[0-9a-f]{32}$")
_PARTIAL_NAME = re.compile(r"^[0-9a-f]{32}\.partial-\d+$")

# Held while extracting an archive and while removing a cache folder, so a folder is never
# removed between "found in the cache" and "marked as used".
cache_lock = threading.Lock()


@dataclass
class CachePruneReport:
    """What a pruning pass did (counts and sizes only; never names)."""

    removed: int = 0
    removed_bytes: int = 0
    kept: int = 0
    kept_bytes: int = 0
    in_use: int = 0
    failed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Counts, and sizes in MB rounded to 0.1 MB (for ``--json``)."""
        data: dict[str, Any] = asdict(self)
        for key in ("removed_bytes", "kept_bytes"):
            data[key.replace("_bytes", "_mb")] = round(data.pop(key) / _MB, 1)
        return data


@dataclass
class _Entry:
    folder: Path
    last_used: float  # seconds since the epoch
    size_bytes: int
    kind: str  # "complete", "broken" or "partial"


def archive_cache_dir() -> Path:
    """The folder holding the extracted archives (not created here)."""
    return app_paths.data_dir() / ARCHIVE_CACHE_FOLDER


def mark_used(folder: Path) -> None:
    """Record that the extracted archive in ``folder`` was opened now (touches its marker)."""
    try:
        (folder / LAST_USED_MARKER).touch()
    except OSError as exc:  # a read-only cache still opens; it is only pruned earlier
        log.warning("Could not mark an extracted archive as used (%s)", type(exc).__name__)


def last_used(folder: Path) -> float:
    """When the archive in ``folder`` was last opened (marker, else manifest, else folder)."""
    for candidate in (folder / LAST_USED_MARKER, folder / MANIFEST_NAME, folder):
        try:
            return candidate.stat().st_mtime
        except OSError:
            continue
    return 0.0


def prune_archive_cache(max_age_days: float = DEFAULT_MAX_AGE_DAYS,
                        max_bytes: int = DEFAULT_MAX_BYTES,
                        in_use: Iterable[str | os.PathLike[str]] = (),
                        now: float | None = None,
                        task: object | None = None) -> CachePruneReport:
    """Remove extracted archives unused for ``max_age_days``, then oldest-used until ``max_bytes``.

    Parameters
    ----------
    max_age_days
        Archives not opened for longer than this (days) are removed.
    max_bytes
        Size cap of the whole cache (bytes); the least recently used archives go first.
    in_use
        Folders of archives open right now (the cache folder or any folder inside it); kept.
    now
        The current time (seconds since the epoch); tests pass a fixed one.
    task
        Ignored; lets the GUI's worker pool run this as a job.

    Returns
    -------
    CachePruneReport
        Counts and sizes; folders that could not be removed count as ``failed`` (and kept).
    """
    now = time.time() if now is None else now
    report = CachePruneReport()
    protected = _resolved(in_use)
    survivors: list[_Entry] = []
    for entry in _scan(archive_cache_dir()):
        if _is_protected(entry.folder, protected):
            report.in_use += 1
            _keep(report, entry)
        elif _expired(entry, now, max_age_days):
            if not _remove(entry, report):
                _keep(report, entry)
        elif entry.kind == "partial":  # maybe still being extracted by another process
            _keep(report, entry)
        else:
            survivors.append(entry)
    total = sum(e.size_bytes for e in survivors) + report.kept_bytes
    for entry in sorted(survivors, key=lambda e: e.last_used):
        if total > max_bytes and _remove(entry, report):
            total -= entry.size_bytes
        else:
            _keep(report, entry)
    log.info("Archive cache pruned: %d removed (%.1f MB), %d kept (%.1f MB), %d in use, "
             "%d could not be removed", report.removed, report.removed_bytes / _MB, report.kept,
             report.kept_bytes / _MB, report.in_use, report.failed)
    return report


def _expired(entry: _Entry, now: float, max_age_days: float) -> bool:
    if entry.kind == "partial":
        return now - entry.last_used > PARTIAL_MAX_AGE_S
    return entry.kind == "broken" or now - entry.last_used > max_age_days * _DAY_S


def _keep(report: CachePruneReport, entry: _Entry) -> None:
    report.kept += 1
    report.kept_bytes += entry.size_bytes


def _remove(entry: _Entry, report: CachePruneReport) -> bool:
    """Remove ``entry`` unless it was opened since the scan; True when it is gone."""
    with cache_lock:
        if entry.kind != "partial" and last_used(entry.folder) > entry.last_used:
            return False  # opened by someone while we were pruning
        failures: list[str] = []
        shutil.rmtree(entry.folder, onerror=lambda func, path, exc: failures.append(path))
    if failures or entry.folder.exists():
        report.failed += 1
        return False
    report.removed += 1
    report.removed_bytes += entry.size_bytes
    return True


def _scan(cache: Path) -> list[_Entry]:
    """The cache's folders (only names this module makes; anything else is left alone)."""
    try:
        children = list(cache.iterdir())
    except OSError:  # no cache yet, or unreadable
        return []
    entries = []
    for child in children:
        try:
            if child.is_symlink() or not child.is_dir():
                continue
        except OSError:
            continue
        if _PARTIAL_NAME.match(child.name):
            kind = "partial"
        elif _FOLDER_NAME.match(child.name):
            kind = "complete" if (child / MANIFEST_NAME).is_file() else "broken"
        else:
            continue
        entries.append(_Entry(child, last_used(child), _folder_bytes(child), kind))
    return entries


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder, onerror=lambda exc: None):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _resolved(folders: Iterable[str | os.PathLike[str]]) -> set[Path]:
    return {Path(os.path.realpath(f)) for f in folders}


def _is_protected(folder: Path, protected: set[Path]) -> bool:
    folder = Path(os.path.realpath(folder))
    return any(p == folder or folder in p.parents for p in protected)
