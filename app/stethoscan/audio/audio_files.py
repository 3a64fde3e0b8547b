"""Read, describe and export audio files (soundfile / libsndfile 1.2).

Reads WAV (8/16/24/32-bit integer and 32/64-bit float, also RF64/W64), FLAC, OGG (Vorbis, Opus)
and MP3, mono or multi-channel, at any rate from 4 kHz to 96 kHz (and beyond, up to 384 kHz).
Samples come back as float32 in [-1, 1] with shape ``(frames, channels)``.

Public API::

    clip = read_audio(path)                        # AudioClip; AudioFileError if unusable
    clip = read_audio(path, start_s=10, duration_s=5)   # a part of a long file
    info = audio_info(path)    # dict: duration_s, rate_hz, channels, frames, format, subtype,
                               # peak_dbfs, rms_dbfs, clipped_samples, clipped_fraction, snr_db
    export_audio(clip, "take.flac", format="FLAC")      # no metadata tags, written atomically

``audio_info`` streams the file in blocks, so it also works on recordings larger than memory.
``export_audio`` writes only samples: no title/artist/comment/date tags, so no patient identifier
can leak through the file's metadata. Files larger than WAV's 4 GB limit are written as RF64.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from stethoscan.audio.clip import AudioClip
from stethoscan.audio.level_metering import (
    CLIP_LEVEL,
    amplitude_to_dbfs,
    power_to_dbfs,
)
from stethoscan.audio.signal_quality import FRAME_S, frame_powers, snr_from_frame_powers
from stethoscan.core.errors import AudioFileError

MIN_RATE_HZ = 1000
MAX_RATE_HZ = 384000
EXPORT_FORMATS = ("WAV", "FLAC")
_WAV_LIMIT_BYTES = 0xFFFFFFFF - 1024  # RIFF sizes are 32-bit; beyond this use RF64
_INFO_BLOCK_FRAMES = 500  # 20 ms analysis frames per block read by audio_info (10 s)
_UNREADABLE_HINT = (
    "it is damaged or not a WAV, FLAC, OGG or MP3 file. Convert it to WAV or FLAC "
    "(for example with Audacity or sox) and import it again."
)


def _open(path: str | os.PathLike[str]):
    """Open ``path`` with soundfile, translating every failure into :class:`AudioFileError`."""
    import soundfile as sf

    path = Path(path)
    try:
        _check_file(path)
    except PermissionError as exc:
        raise AudioFileError(
            f"Permission denied: the audio file {path.name} cannot be read by your user. Ask for "
            "read access, or copy the file to a folder of yours, and try again."
        ) from exc
    except OSError as exc:  # not a format problem: the disk, a network drive, the file system
        raise AudioFileError(
            f"The audio file {path.name} could not be opened ({exc.strerror or exc}): check that "
            "its disk or network drive is available and try again."
        ) from exc
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioFileError(f"The audio file {path.name} cannot be read: {_UNREADABLE_HINT}") from exc
    try:
        _check_stream(handle, path.name)
    except AudioFileError:
        handle.close()
        raise
    return handle


def _check_file(path: Path) -> None:
    """Raise AudioFileError for a missing, folder or empty path; OSError if it cannot be opened."""
    if not path.exists():
        raise AudioFileError(f"The audio file {path.name} does not exist: check where it was saved.")
    if path.is_dir():
        raise AudioFileError(f"{path.name} is a folder, not an audio file: choose a file inside it.")
    if path.stat().st_size == 0:
        raise AudioFileError(
            f"The audio file {path.name} is empty (0 bytes): it was not saved completely. "
            "Choose another file or record the take again."
        )
    with open(path, "rb"):  # libsndfile reports a refused open as a format error; Python does not
        pass


def _check_stream(handle, name: str) -> None:
    if not MIN_RATE_HZ <= handle.samplerate <= MAX_RATE_HZ:
        raise AudioFileError(
            f"The audio file {name} has a sample rate of {handle.samplerate} Hz, outside "
            f"{MIN_RATE_HZ}-{MAX_RATE_HZ} Hz: resample it (for example to 48000 Hz) and import again."
        )
    if handle.channels < 1:
        raise AudioFileError(f"The audio file {name} has no audio channels: {_UNREADABLE_HINT}")
    if handle.frames == 0:
        raise AudioFileError(
            f"The audio file {name} contains no sound (0 s long). Choose another file or record "
            "the take again."
        )


def read_audio(
    path: str | os.PathLike[str], start_s: float = 0.0, duration_s: float | None = None
) -> AudioClip:
    """Read an audio file (or the part from ``start_s`` lasting ``duration_s``, s) as float32.

    Raises
    ------
    AudioFileError
        The file is missing, empty, damaged, of an unsupported format or holds no samples.
    """
    import soundfile as sf

    with _open(path) as handle:
        start = min(max(int(round(start_s * handle.samplerate)), 0), handle.frames)
        count = -1 if duration_s is None else max(int(round(duration_s * handle.samplerate)), 0)
        try:
            handle.seek(start)
            samples = handle.read(frames=count, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFileError(
                f"The audio file {Path(path).name} is cut short or damaged and could not be read "
                f"to the end: {_UNREADABLE_HINT}"
            ) from exc
        clip = AudioClip(
            samples=_finite(samples),
            rate_hz=int(handle.samplerate),
            source=str(path),
            format=handle.format,
            subtype=handle.subtype,
        )
    if start == 0 and duration_s is None:
        clip.warnings += cut_short_warnings(Path(path), clip.format, clip.frames, clip.rate_hz)
    if clip.frames == 0 and duration_s is None:
        raise AudioFileError(
            f"The audio file {Path(path).name} contains no sound (0 s long). Choose another file "
            "or record the take again."
        )
    return clip


def declared_wav_frames(path: Path) -> int | None:
    """Frames the WAV header announces: the ``data`` chunk's size over the ``fmt`` chunk's block
    alignment (None: not a RIFF WAV, an RF64 or streaming header without a size, or unreadable)."""
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    offset, block_align = 12, 0
    while offset + 8 <= len(head):
        chunk, size = head[offset : offset + 4], struct.unpack("<I", head[offset + 4 : offset + 8])[0]
        if chunk == b"fmt " and offset + 22 <= len(head):
            block_align = struct.unpack("<H", head[offset + 20 : offset + 22])[0]
        if chunk == b"data":
            return None if size in (0, 0xFFFFFFFF) or block_align <= 0 else size // block_align
        offset += 8 + size + (size & 1)
    return None


def cut_short_warnings(path: Path, fmt: str, frames: int, rate_hz: int) -> list[str]:
    """A sentence when a WAV file holds fewer samples than its header announces (an interrupted
    copy or download): the part present is used, and the user is told how much is missing."""
    declared = declared_wav_frames(path) if fmt == "WAV" else None
    if declared is None or declared <= frames + 1 or rate_hz <= 0:
        return []
    present = frames / rate_hz
    return [f"The file {path.name} is cut short: its header announces {declared / rate_hz:.1f} s "
            f"but only {present:.1f} s are in it (an interrupted copy or download?). The "
            f"{present:.1f} s present are used; copy the file again to get the rest."]  # fmt: skip


def _finite(samples: np.ndarray) -> np.ndarray:
    """Replace NaN/inf (possible only in damaged float files) by silence / full scale."""
    if not np.isfinite(samples).all():
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return samples


def audio_info(path: str | os.PathLike[str]) -> dict[str, object]:
    """Describe an audio file: duration (s), rate (Hz), channels, format, levels (dBFS), SNR (dB).

    The file is read in blocks, so any length works. Keys: ``file``, ``duration_s``, ``rate_hz``,
    ``channels``, ``frames``, ``format``, ``subtype``, ``peak_dbfs``, ``rms_dbfs``,
    ``clipped_samples``, ``clipped_fraction``, ``snr_db``, ``warnings`` (e.g. a cut-short file).
    """
    import soundfile as sf

    with _open(path) as handle:
        rate, channels = int(handle.samplerate), int(handle.channels)
        frame = max(int(round(FRAME_S * rate)), 1)
        sum_sq, peak, clipped, total = 0.0, 0.0, 0, 0
        powers: list[np.ndarray] = []
        try:
            for block in handle.blocks(blocksize=frame * _INFO_BLOCK_FRAMES, dtype="float32",
                                       always_2d=True):
                block = _finite(block)
                flat = block.astype(np.float64).ravel()
                sum_sq += float(np.dot(flat, flat))
                peak = max(peak, float(np.max(np.abs(flat))) if flat.size else 0.0)
                clipped += int(np.count_nonzero(np.abs(flat) >= CLIP_LEVEL))
                total += block.shape[0]
                powers.append(frame_powers(block.mean(axis=1), rate))
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioFileError(
                f"The audio file {Path(path).name} is damaged and could not be read to the end: "
                f"{_UNREADABLE_HINT}"
            ) from exc
        fmt, subtype = handle.format, handle.subtype
    if total == 0:
        raise AudioFileError(f"The audio file {Path(path).name} contains no sound (0 s long).")
    samples_total = total * channels
    return {
        "file": Path(path).name,
        "duration_s": round(total / rate, 6),
        "rate_hz": rate,
        "channels": channels,
        "frames": total,
        "format": fmt,
        "subtype": subtype,
        "peak_dbfs": round(amplitude_to_dbfs(peak), 2) + 0.0,  # never "-0.0"
        "rms_dbfs": round(power_to_dbfs(sum_sq / samples_total), 2) + 0.0,
        "clipped_samples": clipped,
        "clipped_fraction": clipped / samples_total,
        "snr_db": round(snr_from_frame_powers(np.concatenate(powers)), 2),
        "warnings": cut_short_warnings(Path(path), fmt, total, rate),
    }


def export_audio(
    clip: AudioClip,
    path: str | os.PathLike[str],
    format: str = "WAV",
    subtype: str | None = None,
) -> Path:
    """Write ``clip`` as WAV or FLAC with no metadata tags; return the written path.

    ``subtype`` defaults to the clip's own when the format supports it, else 24-bit PCM. The file
    appears atomically (written beside it, flushed to disk, then renamed).
    """
    import soundfile as sf

    fmt = format.upper()
    if fmt not in EXPORT_FORMATS:
        raise AudioFileError(f"Audio can be exported as WAV or FLAC, not {format}.")
    subtype = _export_subtype(fmt, subtype or clip.subtype)
    samples = clip.samples if clip.samples.ndim == 2 else clip.samples[:, None]
    if fmt == "WAV" and samples.shape[0] * samples.shape[1] * _bytes_per_sample(subtype) > _WAV_LIMIT_BYTES:
        fmt = "RF64"
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        with sf.SoundFile(str(tmp), "w", samplerate=int(clip.rate_hz), channels=samples.shape[1],
                          format=fmt, subtype=subtype) as out:
            out.write(samples)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise AudioFileError(
            f"The audio could not be written to {path.name} ({exc}). Check that the folder exists, "
            "is writable and the disk is not full."
        ) from exc
    return path


def _export_subtype(fmt: str, wanted: str) -> str:
    import soundfile as sf

    if wanted and sf.check_format(fmt, wanted):
        return wanted
    return "PCM_24"


def _bytes_per_sample(subtype: str) -> int:
    return {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "DOUBLE": 8}.get(subtype, 4)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
