"""Import an audio file as an "imported" take of a patient session (no Qt; runs in a worker).

The file is read (WAV, FLAC, OGG, MP3; any rate 4-96 kHz; any channel count), checked, and
written into the session's recordings folder as FLAC (or WAV for 32-bit and float samples, which
FLAC cannot hold) under a neutral name. Re-writing drops every tag of the original, so no patient
identifier travels along in the copy's metadata; the original file is left untouched.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from stethoscan.audio.audio_files import audio_info, export_audio, read_audio
from stethoscan.core import paths
from stethoscan.records.patient_store import PatientStore

IMPORT_FILTER = "Audio files (*.wav *.flac *.ogg *.oga *.mp3 *.WAV *.FLAC *.OGG *.MP3);;All files (*)"
_WAV_ONLY_SUBTYPES = {"PCM_32", "FLOAT", "DOUBLE"}


def session_folder(session_id: int) -> Path:
    folder = paths.recordings_dir() / f"session_{session_id:05d}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def import_audio_file(store: PatientStore, session_id: int, source: str | Path, task=None) -> int:
    """Copy ``source`` into the session as an imported take; return the new recording's id.

    Raises
    ------
    AudioFileError
        The file is missing, empty, damaged or not audio (the message says what to do).
    """
    source = Path(source)
    if task is not None:
        task.progress(0.05, f"Reading {source.name}")
    clip = read_audio(source)
    if task is not None:
        task.check_cancelled()
        task.progress(0.5, "Saving the imported take")
    fmt = "WAV" if clip.subtype in _WAV_ONLY_SUBTYPES else "FLAC"
    take = 1 + sum(1 for r in store.list_recordings(session_id) if r.status == "imported")
    target = session_folder(session_id) / f"imported_{take:02d}_{uuid.uuid4().hex[:8]}.{fmt.lower()}"
    export_audio(clip, target, format=fmt)
    info = audio_info(target)
    quality = {k: info[k] for k in ("peak_dbfs", "rms_dbfs", "clipped_fraction", "snr_db")}
    quality["original_format"] = f"{clip.format} {clip.subtype}".strip()
    if clip.warnings:
        quality["import_warnings"] = list(clip.warnings)  # the copy is whole: keep what was missing
    recording_id = store.add_recording(
        session_id, str(target), clip.rate_hz, task="free", take=take, device="imported file",
        channels=clip.channels, duration_s=clip.duration_s, status="imported", quality=quality,
    )
    if task is not None:
        task.progress(1.0, "Imported")
    return recording_id
