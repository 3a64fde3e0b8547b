"""Turn what the user opened (files, folders, a DICOMDIR, zip archives) into a list of files.

* A folder is scanned recursively. A file named ``DICOMDIR`` in it is read with pydicom (its
  directory records' Referenced File IDs); when it is broken (unreadable, or it lists files that are not
  there, as on many real CDs) the folder scan alone is used and a note says so. Files the DICOMDIR
  does not list are read as well: a DICOMDIR is an index, not a filter.
* A zip archive (opened directly, or a ``*.zip`` inside a folder) is extracted once into
  ``paths.data_dir()/"archive-cache"/<sha256>``; members whose names would land outside that
  folder, links and encrypted members are not extracted and are listed with the reason. Each
  opening marks the folder as used; :mod:`stethoscan.imaging.archive_cache` prunes old ones.
  A file named ``*.zip`` (or starting like one) that is not a readable zip archive is listed as
  a damaged or unsupported zip archive, not as "not a DICOM file".
* :func:`display_path` shows a file that came out of an archive as ``study.zip › DICOM/IM1``
  instead of its path inside the archive cache (for lists of skipped files).

Nothing here reads pixel data or even DICOM headers (except the DICOMDIR itself).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from stethoscan.core.errors import DicomError
from stethoscan.imaging.archive_cache import (
    ARCHIVE_CACHE_FOLDER as ARCHIVE_CACHE_FOLDER,  # re-exported: its public name here
)
from stethoscan.imaging.archive_cache import (
    MANIFEST_NAME,
    archive_cache_dir,
    cache_lock,
    mark_used,
)
from stethoscan.imaging.model import SkippedFile

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

_MEMBERS_FOLDER = "files"
_MANIFEST = MANIFEST_NAME
_COPY_CHUNK = 1 << 20
_WALK_REPORT_EVERY = 500
MAX_ARCHIVE_DEPTH = 3
ARCHIVE_SEPARATOR = " › "
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_DAMAGED_ZIP = ("A damaged or unsupported zip archive: it cannot be unpacked. Copy it again from "
                "where it came from, or unpack it with another program and open the folder.")

# Where each opened archive's files were extracted (and the archive file itself), as absolute
# paths, -> how the user knows that archive. Filled while expanding; read by display_path.
_archive_labels: dict[str, str] = {}


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` as the user should see it: ``scan.zip › DICOM/IM1`` for a member of an archive
    opened in this session (nested archives give ``a.zip › b.zip › IM1``), else ``path``."""
    candidate = _absolute(path)
    for parent in (candidate, *candidate.parents):
        label = _archive_labels.get(str(parent))
        if label is not None:
            member = candidate.relative_to(parent).as_posix()
            return f"{label}{ARCHIVE_SEPARATOR}{member}" if member != "." else label
    return str(path)


def _absolute(path: str | os.PathLike[str]) -> Path:
    """Absolute without resolving ``..`` (an unsafe member name must stay visible)."""
    return Path.cwd() / Path(path)


def _remember_archive(archive: Path, members_folder: Path) -> None:
    label = display_path(archive)  # an archive inside an archive keeps its outer name
    _archive_labels[str(_absolute(members_folder))] = label
    _archive_labels[str(_absolute(archive))] = label


@dataclass
class SourceListing:
    """Files to read, files already set aside with their reason, and notes for the user."""

    files: list[Path] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    archive_depth: int = 0  # zip archives being expanded inside each other right now
    _seen: set[str] = field(default_factory=set, repr=False)

    def add_file(self, path: Path) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key not in self._seen:
            self._seen.add(key)
            self.files.append(path)

    def skip(self, path: Path | str, reason: str) -> None:
        key = os.path.normcase(os.path.abspath(path))
        if key not in self._seen:
            self._seen.add(key)
            self.skipped.append(SkippedFile(str(path), reason))


def expand_paths(paths: Iterable[str | os.PathLike[str]],
                 progress: ProgressCallback | None = None) -> SourceListing:
    """List the files behind ``paths`` (files, folders, DICOMDIRs, zip archives).

    Raises
    ------
    DicomError
        None of the paths exists or can be read.
    """
    report = progress or (lambda fraction, message: None)
    listing = SourceListing()
    given = [Path(p) for p in paths]
    if not given:
        raise DicomError("No file or folder was given to open.")
    readable = 0
    for number, path in enumerate(given):

        def report_within(fraction: float, message: str, number: int = number) -> None:
            report((number + fraction) / len(given), message)

        report_within(0.0, f"Looking for DICOM files in {path.name or path}")
        readable += _expand_one(path, listing, report_within)
    if readable == 0:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in listing.skipped[: len(given)])
        raise DicomError(f"Nothing could be opened. {reasons}")
    report(1.0, f"Found {len(listing.files)} files")
    return listing


def _expand_one(path: Path, listing: SourceListing, report: ProgressCallback) -> int:
    """Add one user-given path; return 1 if it could be read at all, else 0."""
    if not path.exists():
        listing.skip(path, "This file or folder does not exist. Check the path and try again.")
        return 0
    if not os.access(path, os.R_OK):
        listing.skip(path, "Permission denied: this file or folder cannot be read by your user.")
        return 0
    if path.is_dir():
        return _expand_folder(path, listing, report)
    if path.name.upper() == "DICOMDIR":
        return _expand_folder(path.parent, listing, report)
    if _is_zip_archive(path):
        return _expand_archive(path, listing, report)
    if _looks_like_zip(path):
        listing.skip(path, _DAMAGED_ZIP)
        return 0
    listing.add_file(path)
    return 1


# --- folders and DICOMDIR ------------------------------------------------------------------
def _expand_folder(folder: Path, listing: SourceListing, report: ProgressCallback) -> int:
    found, unreadable = walk_files(folder, report)
    if not found and unreadable:
        listing.skip(folder, f"This folder cannot be read: {unreadable[0][1]}")
        return 0
    for path, reason in unreadable:
        listing.skip(path, f"This folder cannot be read: {reason}")
    for path in found:
        if path.name.upper() == "DICOMDIR":
            _use_dicomdir(path, _case_insensitive_index(found), listing)
    for path in found:
        if path.suffix.lower() == ".zip" and _is_zip_archive(path):
            _expand_archive(path, listing, report)
        elif path.suffix.lower() == ".zip":  # no signature check here: one more open per file
            listing.skip(path, _DAMAGED_ZIP)
        else:
            listing.add_file(path)
    return 1


def walk_files(folder: Path, progress: ProgressCallback | None = None
               ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """All regular files below ``folder`` in a stable order, and sub-folders that failed.

    ``progress`` hears about every few hundred files, so that a huge tree can be cancelled.
    """
    files: list[Path] = []
    errors: list[tuple[Path, str]] = []
    reported = 0

    def on_error(exc: OSError) -> None:
        errors.append((Path(exc.filename or folder), exc.strerror or str(exc)))

    for root, dirs, names in os.walk(folder, onerror=on_error, followlinks=False):
        dirs.sort()
        base = Path(root)
        files.extend(base / name for name in sorted(names) if (base / name).is_file())
        if progress is not None and len(files) - reported >= _WALK_REPORT_EVERY:
            reported = len(files)
            progress(0.0, f"Found {reported} files in {folder.name or folder}")
    return files, errors


def _use_dicomdir(dicomdir: Path, present: dict[str, Path], listing: SourceListing) -> None:
    """Check a DICOMDIR against the files found; note when it is broken."""
    try:
        referenced = dicomdir_files(dicomdir)
    except DicomError as exc:
        listing.skip(dicomdir, f"Not an image: a DICOMDIR (index of a DICOM disc) that could "
                               f"not be used: {exc}.")
        listing.notes.append(
            f"The DICOMDIR in {dicomdir.parent} is broken ({exc}); the folder was scanned "
            "for DICOM files instead."
        )
        return
    missing = [p for p in referenced if _find_case_insensitive(p, present) is None]
    if missing:
        listing.notes.append(
            f"The DICOMDIR in {dicomdir.parent} lists {len(missing)} of its {len(referenced)} "
            f"files that are not there (first: {missing[0].name}); the folder was scanned for "
            "DICOM files instead."
        )
        reason = (f"Not an image: a DICOMDIR (index of a DICOM disc) that lists "
                  f"{len(missing)} missing files.")
    else:
        reason = (f"Not an image: a DICOMDIR (index of a DICOM disc); it lists "
                  f"{len(referenced)} files.")
    listing.skip(dicomdir, reason)
    for path in referenced:
        actual = _find_case_insensitive(path, present)
        if actual is not None:
            listing.add_file(actual)


def dicomdir_files(dicomdir: Path) -> list[Path]:
    """The files a DICOMDIR references (paths as written in its records, under its folder).

    Raises
    ------
    DicomError
        The DICOMDIR cannot be read, is cut off, or lists no files.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(dicomdir, force=False)
        records = dataset.get("DirectoryRecordSequence")
        if not records:
            raise DicomError("it has no directory records: it is cut off or empty")
        files = [_referenced_path(dicomdir.parent, r.get("ReferencedFileID")) for r in records]
    except (InvalidDicomError, ValueError, KeyError, AttributeError, TypeError, EOFError,
            OSError, NotImplementedError) as exc:
        raise DicomError(_short_reason(exc)) from exc
    files = [f for f in files if f is not None]
    if not files:
        raise DicomError("it lists no image files")
    return files


def _referenced_path(folder: Path, file_id: object) -> Path | None:
    """A record's Referenced File ID (path components) as a path under ``folder``."""
    if not file_id:
        return None
    parts = [file_id] if isinstance(file_id, str) else [str(p) for p in file_id]  # type: ignore[attr-defined]
    target = safe_member_path(folder, "/".join(parts))
    if target is None:
        raise DicomError("it points to files outside its folder")
    return target


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _case_insensitive_index(files: list[Path]) -> dict[str, Path]:
    """Files by upper-case path without ISO 9660 ``;1`` versions: CDs change case and add them."""
    return {str(path).upper().split(";")[0]: path for path in files}


def _find_case_insensitive(path: Path, present: dict[str, Path]) -> Path | None:
    return present.get(str(path).upper())


# --- zip archives --------------------------------------------------------------------------
_extract_lock = cache_lock  # pruning holds it too, so a folder being opened is never removed


def _is_zip_archive(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _looks_like_zip(path: Path) -> bool:
    """Named ``.zip`` or starting with a zip signature (then not a DICOM file either)."""
    if path.suffix.lower() == ".zip":
        return True
    try:
        with open(path, "rb") as stream:
            return stream.read(4) in _ZIP_MAGIC
    except OSError:
        return False


def _expand_archive(archive: Path, listing: SourceListing, report: ProgressCallback) -> int:
    """Extract and expand like a folder (a zipped CD keeps its DICOMDIR; zips in zips open)."""
    if listing.archive_depth >= MAX_ARCHIVE_DEPTH:
        listing.skip(archive, f"Not opened: zip archives nested more than {MAX_ARCHIVE_DEPTH} "
                              "deep (possibly an archive that contains itself).")
        return 0
    try:
        folder, skipped_members = extract_archive(archive, report)
    except DicomError as exc:
        listing.skip(archive, str(exc))
        return 0
    _remember_archive(archive, folder)
    for member, reason in skipped_members:
        listing.skip(f"{archive}/{member}", reason)
    listing.archive_depth += 1
    try:
        _expand_folder(folder, listing, report)
    finally:
        listing.archive_depth -= 1
    return 1


def extract_archive(archive: Path, progress: ProgressCallback | None = None
                    ) -> tuple[Path, list[tuple[str, str]]]:
    """Extract ``archive`` once into the archive cache; return its folder and skipped members.

    The cache folder is named after the archive's SHA-256, so opening the same archive again
    (even renamed) reuses the extracted files; each call marks the folder as used (for pruning).

    Raises
    ------
    DicomError
        The archive is damaged or does not fit on the disk.
    """
    report = progress or (lambda fraction, message: None)
    digest = _sha256(archive)
    target = archive_cache_dir() / digest[:32]
    with _extract_lock:
        manifest = target / _MANIFEST
        if manifest.is_file():
            skipped = json.loads(manifest.read_text(encoding="utf-8")).get("skipped", [])
            mark_used(target)
            return target / _MEMBERS_FOLDER, [tuple(item) for item in skipped]
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        try:
            skipped = _extract_members(archive, partial / _MEMBERS_FOLDER, report)
            (partial / _MANIFEST).write_text(json.dumps({"skipped": skipped}), encoding="utf-8")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(partial, target)
            mark_used(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    log.info("Extracted an archive into the archive cache (%d members skipped)", len(skipped))
    return target / _MEMBERS_FOLDER, [tuple(item) for item in skipped]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_COPY_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _extract_members(archive: Path, folder: Path, report: ProgressCallback) -> list[list[str]]:
    skipped: list[list[str]] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check_free_space(archive, folder, sum(m.file_size for m in members))
            folder.mkdir(parents=True, exist_ok=True)
            for number, member in enumerate(members):
                report(number / max(len(members), 1), f"Unpacking {archive.name}")
                reason = _extract_member(zf, member, folder)
                if reason:
                    skipped.append([member.filename, reason])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise DicomError(f"{_DAMAGED_ZIP} ({_short_reason(exc)})") from exc
    return skipped


def _extract_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, folder: Path) -> str:
    """Extract one member safely; return a reason when it was not extracted."""
    target = safe_member_path(folder, member.filename)
    if target is None:
        return ("Not extracted: its name points outside the archive's folder "
                "(an unsafe archive entry).")
    if stat.S_ISLNK(member.external_attr >> 16):
        return "Not extracted: it is a link, not a file."
    if member.flag_bits & 0x1:
        return "Not extracted: the archive entry is encrypted (password protected)."
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zf.open(member) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink, _COPY_CHUNK)
    except NotImplementedError as exc:  # e.g. Deflate64, bzip2-less Python builds, zstd
        target.unlink(missing_ok=True)
        return (f"Not extracted: the archive entry is compressed in a way this program cannot "
                f"unpack ({_short_reason(exc)}); unpack the archive with another program.")
    except (zipfile.BadZipFile, RuntimeError, EOFError, OSError) as exc:
        target.unlink(missing_ok=True)
        return f"Not extracted: the archive entry is damaged ({_short_reason(exc)})."
    return ""


def safe_member_path(folder: Path, name: str) -> Path | None:
    """Where archive member ``name`` goes under ``folder``, or None if it would escape it."""
    normal = name.replace("\\", "/")
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if not parts or normal.startswith("/") or ".." in parts or ":" in parts[0]:
        return None
    target = folder.joinpath(*parts)
    root = folder.resolve()
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        return None
    return target


def _check_free_space(archive: Path, folder: Path, needed_bytes: int) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if needed_bytes > free - 200 * 1024 * 1024:
        raise DicomError(
            f"Unpacking {archive.name} needs {needed_bytes / 1e9:.1f} GB but only "
            f"{free / 1e9:.1f} GB are free. Free some disk space or unpack it elsewhere."
        )
