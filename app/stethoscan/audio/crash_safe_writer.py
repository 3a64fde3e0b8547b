"""Stream audio blocks to disk so a crash, kill or power loss loses at most the last second.

While a take is recorded to ``take.flac`` its data lives in the folder ``take.flac.inprogress/``:

- ``audio.f32``: append-only raw PCM, interleaved little-endian float32 (no size limit);
- ``journal.json``: rate (Hz), channels, sample format, device, start time, frames written and
  flushed to disk, and the caller's tags (task, take, session id; never patient identifiers).

Every block is written straight to the file (no user-space buffer, so a killed process loses
nothing already written); data and journal are ``fsync``-ed at least every ``sync_interval_s``
(0.5 s by default), so they are durable even after a power loss. :meth:`CrashSafeWriter.finalize`
turns the raw data into the final file (FLAC by default, or WAV, RF64 beyond 4 GB) atomically and
removes the folder. If the program dies first, :mod:`stethoscan.audio.recording_recovery` finds
the folder on the next start and does the same with :func:`finalize_folder`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import AudioError

IN_PROGRESS_SUFFIX = ".inprogress"
RAW_NAME = "audio.f32"
JOURNAL_NAME = "journal.json"
JOURNAL_VERSION = 1
RAW_DTYPE = np.dtype("<f4")
FINAL_FORMATS = ("FLAC", "WAV")
_CHUNK_FRAMES = 1 << 18  # frames converted per step when finalizing (5.5 s at 48 kHz)
_WAV_LIMIT_BYTES = 0xFFFFFFFF - 1024


@dataclass
class RecordingJournal:
    """What the in-progress folder says about its recording. Rate in Hz, times ISO 8601 UTC."""

    rate_hz: int
    channels: int
    device: str = ""
    started_at: str = ""
    frames_synced: int = 0
    final_format: str = "FLAC"
    sample_format: str = "float32le"
    tags: dict[str, Any] = field(default_factory=dict)
    version: int = JOURNAL_VERSION

    @classmethod
    def load(cls, folder: Path) -> RecordingJournal:
        data = json.loads((folder / JOURNAL_NAME).read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, folder: Path) -> None:
        """Replace the journal atomically and durably (temporary file, fsync, rename, fsync dir)."""
        tmp = folder / (JOURNAL_NAME + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / JOURNAL_NAME)
        fsync_dir(folder)


def in_progress_folder(final_path: Path) -> Path:
    """The folder that holds the raw data of ``final_path`` while it is being recorded."""
    return final_path.with_name(final_path.name + IN_PROGRESS_SUFFIX)


def final_path_of(folder: Path) -> Path:
    """The final file an in-progress folder turns into."""
    return folder.with_name(folder.name[: -len(IN_PROGRESS_SUFFIX)])


class CrashSafeWriter:
    """Append float32 blocks of shape ``(frames, channels)`` durably; finalize or discard at the end.

    Not thread-safe: one writer thread owns it. Raises :class:`AudioError` when the disk fails.
    """

    def __init__(
        self,
        final_path: str | os.PathLike[str],
        rate_hz: int,
        channels: int,
        *,
        device: str = "",
        tags: dict[str, Any] | None = None,
        final_format: str = "FLAC",
        sync_interval_s: float = 0.5,
    ) -> None:
        self.final_path = Path(final_path)
        if final_format.upper() not in FINAL_FORMATS:
            raise AudioError(f"Recordings are saved as FLAC or WAV, not {final_format}.")
        self.folder = in_progress_folder(self.final_path)
        self.sync_interval_s = float(sync_interval_s)
        self.journal = RecordingJournal(
            rate_hz=int(rate_hz), channels=int(channels), device=device,
            started_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
            final_format=final_format.upper(), tags=dict(tags or {}),
        )
        self.frames_written = 0
        self._raw = self._create()
        self._last_sync = time.monotonic()

    def _create(self):
        if self.folder.exists():
            raise AudioError(
                f"An unsaved recording is already waiting in {self.folder.name}: recover or "
                "discard it before recording to the same file again."
            )
        try:
            self.final_path.parent.mkdir(parents=True, exist_ok=True)
            self.folder.mkdir()
            self.journal.save(self.folder)
            raw = open(self.folder / RAW_NAME, "ab", buffering=0)  # noqa: SIM115 (kept open)
            fsync_dir(self.folder)
            fsync_dir(self.folder.parent)
            return raw
        except OSError as exc:
            raise _disk_error(self.folder, exc) from exc

    @property
    def duration_s(self) -> float:
        return self.frames_written / self.journal.rate_hz

    @property
    def frames_synced(self) -> int:
        return self.journal.frames_synced

    def write(self, block: np.ndarray) -> None:
        """Append one block (or several stacked) and fsync if the last sync is old enough."""
        if block.ndim == 1:
            block = block[:, None]
        if block.shape[1] != self.journal.channels:
            raise AudioError(f"Expected {self.journal.channels} channels, got {block.shape[1]}.")
        data = np.ascontiguousarray(block, dtype=RAW_DTYPE).tobytes()
        try:
            view = memoryview(data)
            while view:
                view = view[self._raw.write(view):]
        except OSError as exc:
            raise _disk_error(self.folder, exc) from exc
        self.frames_written += block.shape[0]
        if time.monotonic() - self._last_sync >= self.sync_interval_s:
            self.sync()

    def sync(self) -> None:
        """Make everything written so far durable (data, then the journal that counts it)."""
        try:
            os.fsync(self._raw.fileno())
            self.journal.frames_synced = self.frames_written
            self.journal.save(self.folder)
        except OSError as exc:
            raise _disk_error(self.folder, exc) from exc
        self._last_sync = time.monotonic()

    def finalize(self) -> Path:
        """Close the raw data, write the final file atomically, remove the folder; return its path."""
        if not self._raw.closed:
            self.sync()
            self._raw.close()
        return finalize_folder(self.folder)

    def discard(self) -> None:
        """Close and delete everything recorded (the user chose Discard)."""
        if not self._raw.closed:
            self._raw.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def raw_frames_on_disk(folder: Path, channels: int) -> int:
    """Number of complete frames in the raw file of an in-progress folder."""
    raw = folder / RAW_NAME
    size = raw.stat().st_size if raw.exists() else 0
    return size // (RAW_DTYPE.itemsize * channels)


def finalize_folder(folder: Path, final_path: Path | None = None) -> Path:
    """Turn an in-progress folder into its final audio file (atomic) and delete the folder.

    All complete frames in the raw file are kept (more than the journal counts if the process
    died between two syncs). Returns the path of the final file.
    """
    import soundfile as sf

    journal = RecordingJournal.load(folder)
    final_path = final_path or final_path_of(folder)
    channels = journal.channels
    frames = raw_frames_on_disk(folder, channels)
    fmt = journal.final_format
    if fmt == "WAV" and frames * channels * 3 > _WAV_LIMIT_BYTES:
        fmt = "RF64"
    tmp = final_path.with_name(f".{final_path.name}.partial")
    try:
        with sf.SoundFile(str(tmp), "w", samplerate=journal.rate_hz, channels=channels,
                          format=fmt, subtype="PCM_24") as out:
            if frames:
                raw = np.memmap(folder / RAW_NAME, dtype=RAW_DTYPE, mode="r",
                                shape=(frames, channels))
                for start in range(0, frames, _CHUNK_FRAMES):
                    chunk = np.nan_to_num(np.asarray(raw[start : start + _CHUNK_FRAMES]))
                    out.write(np.clip(chunk, -1.0, 1.0))  # libsndfile would wrap, not clip
                del raw
        _fsync_path(tmp)
        os.replace(tmp, final_path)
        fsync_dir(final_path.parent)
    except (OSError, RuntimeError) as exc:
        tmp.unlink(missing_ok=True)
        raise _disk_error(final_path.parent, exc) from exc
    shutil.rmtree(folder, ignore_errors=True)
    return final_path


def fsync_dir(folder: Path) -> None:
    """Make a rename or new file inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _disk_error(where: Path, exc: BaseException) -> AudioError:
    return AudioError(
        f"The recording could not be written to disk in {where} ({exc}). Free disk space or "
        "choose another folder; what was already written is kept for recovery."
    )
