"""Pruning the archive cache: old and oversized entries go, recent and in-use ones stay."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from dicom_factory import write_series

from stethoscan import cli
from stethoscan.imaging import archive_cache, dicom_sources
from stethoscan.imaging.archive_cache import (
    LAST_USED_MARKER,
    archive_cache_dir,
    last_used,
    prune_archive_cache,
)
from stethoscan.imaging.dicom_sources import extract_archive

DAY_S = 24 * 3600.0


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STETHOSCAN_HOME", str(tmp_path / "home"))


def _opened_archive(tmp_path: Path, name: str, n_slices: int = 3) -> Path:
    """Zip a fresh series, open it through the cache; return its cache folder."""
    files = write_series(tmp_path / f"src-{name}", n_slices=n_slices, rows=32, cols=32)
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files:
            zf.write(path, f"DOE^JANE/{path.name}")
    members, skipped = extract_archive(archive)
    assert not skipped and len(list(members.rglob("*.dcm"))) == n_slices
    return members.parent


def _age(folder: Path, days: float) -> None:
    stamp = time.time() - days * DAY_S
    for path in (folder / LAST_USED_MARKER, folder):
        os.utime(path, (stamp, stamp))


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_opening_again_marks_the_archive_as_used(tmp_path: Path):
    folder = _opened_archive(tmp_path, "a")
    _age(folder, 40)
    assert time.time() - last_used(folder) > 39 * DAY_S
    extract_archive(tmp_path / "a.zip")
    assert time.time() - last_used(folder) < 60
    assert dicom_sources.ARCHIVE_CACHE_FOLDER == archive_cache_dir().name  # old name still works


def test_old_archives_are_removed_and_recent_ones_kept(tmp_path: Path, caplog):
    old = _opened_archive(tmp_path, "old")
    recent = _opened_archive(tmp_path, "recent")
    _age(old, 31)
    _age(recent, 29)
    with caplog.at_level(logging.INFO, logger="stethoscan.imaging.archive_cache"):
        report = prune_archive_cache(max_age_days=30)
    assert not old.exists() and recent.is_dir()
    assert (report.removed, report.kept, report.failed) == (1, 1, 0)
    assert report.removed_bytes == pytest.approx(_size(recent), rel=0.2)
    log_text = caplog.text
    assert "1 removed" in log_text
    assert "DOE" not in log_text and str(archive_cache_dir()) not in log_text


def test_size_cap_removes_the_least_recently_used_first(tmp_path: Path):
    folders = [_opened_archive(tmp_path, f"s{k}") for k in range(4)]
    for days, folder in zip((5, 1, 9, 3), folders, strict=True):
        _age(folder, days)
    sizes = [_size(f) for f in folders]
    cap = sum(sizes) - sizes[2] - sizes[0] + 100  # room for the two most recently used
    report = prune_archive_cache(max_age_days=30, max_bytes=cap)
    assert [f.exists() for f in folders] == [False, True, False, True]
    assert report.removed == 2 and report.kept_bytes <= cap


def test_folders_in_use_are_never_removed(tmp_path: Path):
    in_use = _opened_archive(tmp_path, "open")
    other = _opened_archive(tmp_path, "other")
    _age(in_use, 400)
    _age(other, 400)
    report = prune_archive_cache(max_age_days=30, max_bytes=0, in_use={in_use / "files"})
    assert in_use.is_dir() and not other.exists()
    assert (report.in_use, report.removed) == (1, 1)


def test_half_extracted_broken_and_foreign_folders(tmp_path: Path):
    good = _opened_archive(tmp_path, "good")
    cache = archive_cache_dir()
    stale_partial = cache / f"{'a' * 32}.partial-123"
    fresh_partial = cache / f"{'b' * 32}.partial-456"
    broken = cache / ("c" * 32)  # no manifest: the extraction never finished
    foreign = cache / "notes-from-admin"
    for folder in (stale_partial, fresh_partial, broken, foreign):
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "x.dcm").write_bytes(b"\0" * 1000)
    os.utime(stale_partial, (time.time() - 2 * DAY_S,) * 2)
    report = prune_archive_cache(max_bytes=0)  # a fresh partial may be another process's
    assert fresh_partial.is_dir() and foreign.is_dir()
    assert not stale_partial.exists() and not broken.exists()
    assert not good.exists()  # the size cap still applies to complete archives
    assert report.removed == 3 and report.failed == 0


def test_a_folder_that_cannot_be_removed_is_counted_and_kept(tmp_path: Path, monkeypatch):
    locked = _opened_archive(tmp_path, "locked")
    free = _opened_archive(tmp_path, "free")
    _age(locked, 60)
    _age(free, 60)
    real_rmtree = shutil.rmtree

    def rmtree_denied_in_locked(path, onerror=None, **kwargs):
        if Path(path) == locked:  # as when a file is read-only or held open by another program
            error = PermissionError(13, "Permission denied")
            onerror(os.unlink, str(locked / "files"), (PermissionError, error, None))
            return None
        return real_rmtree(path, onerror=onerror, **kwargs)

    monkeypatch.setattr(archive_cache.shutil, "rmtree", rmtree_denied_in_locked)
    report = prune_archive_cache()
    assert locked.is_dir() and not free.exists()
    assert (report.removed, report.failed, report.kept) == (1, 1, 1)


def test_the_command_prints_counts(tmp_path: Path, capsys):
    old = _opened_archive(tmp_path, "old")
    _opened_archive(tmp_path, "new")
    _age(old, 10)
    assert cli.main(["dicom", "prune-cache", "--days", "7", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["removed"], data["kept"], data["failed"]) == (1, 1, 0)
    assert isinstance(data["removed_mb"], float) and isinstance(data["kept_mb"], float)
    assert cli.main(["dicom", "prune-cache", "--max-gb", "0"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Removed 1 extracted archives") and "kept 0" in text
    assert not any(archive_cache_dir().iterdir())
