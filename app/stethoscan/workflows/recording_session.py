"""Takes of a patient session: where they are written, how they enter the patient database,
and how takes cut off by a crash are recovered into it.

Files live in ``paths.recordings_dir()/<session id>/<task>-take<N>-<UTC time>.flac``. The
in-progress data of a take carries its session id, task and take number (never patient
identifiers), so a take recovered after a crash goes back to the right session.

Public API (used by the recording studio)::

    recorder = start_take(store, session_id, "vowel_a", config)  # a started Recorder
    ...                                       # the studio drains its live queue and events
    result = recorder.stop()                  # or the "finished" event's result
    saved = save_take(store, session_id, result)   # SavedTake(recording_id, report, path)
    saved.report.problems                     # worded problems -> offer a retake
    next_take_number(store, session_id, "vowel_a")
    import_audio_file(store, session_id, path)     # status "imported", copied as FLAC
    pending = list_recoverable()              # at start-up, before any take starts
    recover_into_store(store, item)           # -> SavedTake with status "recovered"
    recover_all_into_store(store, task)       # headless: everything, one failure never stops it
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stethoscan.audio import recording_recovery
from stethoscan.audio.audio_files import export_audio, read_audio
from stethoscan.audio.capture_stream import CaptureConfig, Recorder, RecordingResult
from stethoscan.audio.recording_recovery import RecoverableRecording
from stethoscan.audio.recording_tasks import get_task
from stethoscan.audio.signal_quality import QualityCriteria, QualityReport, assess_quality
from stethoscan.core import paths
from stethoscan.core.errors import AudioError, RecordsError
from stethoscan.records.patient_store import PatientStore

FREE_TASK = "free"


@dataclass(frozen=True)
class SavedTake:
    """A take stored in the database, with its quality check."""

    recording_id: int
    path: Path
    status: str  # complete | interrupted | recovered | imported
    report: QualityReport


def session_folder(session_id: int) -> Path:
    """The folder of a session's recordings (created if needed)."""
    folder = paths.recordings_dir() / str(int(session_id))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def next_take_number(store: PatientStore, session_id: int, task_key: str) -> int:
    """1 + the highest take number of this task in this session."""
    takes = [r.take for r in store.list_recordings(session_id=session_id) if r.task == task_key]
    return max(takes, default=0) + 1


def new_take_path(session_id: int, task_key: str, take: int, final_format: str = "FLAC") -> Path:
    """A fresh file name for a take (never an existing file)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    safe_task = re.sub(r"[^a-z0-9_]+", "_", task_key.lower()) or FREE_TASK
    ext = ".wav" if final_format.upper() == "WAV" else ".flac"
    return session_folder(session_id) / f"{safe_task}-take{take}-{stamp}{ext}"


def start_take(
    store: PatientStore,
    session_id: int,
    task_key: str = FREE_TASK,
    config: CaptureConfig | None = None,
    *,
    take: int | None = None,
    auto_stop: bool = True,
) -> Recorder:
    """Start recording the next take of ``task_key``; the returned recorder is running.

    With ``auto_stop`` the take ends on its own after the task's ``record_s``.
    """
    store.session_patient(session_id)  # RecordsError if the session does not exist
    take = take or next_take_number(store, session_id, task_key)
    max_s = get_task(task_key).record_s if auto_stop and task_key != FREE_TASK else None
    recorder = Recorder(
        new_take_path(session_id, task_key, take), config,
        tags={"session_id": int(session_id), "task": task_key, "take": int(take)},
        max_duration_s=max_s,
    )
    recorder.start()
    return recorder


def criteria_for(task_key: str) -> QualityCriteria:
    return QualityCriteria() if task_key == FREE_TASK else get_task(task_key).criteria


def save_take(store: PatientStore, session_id: int, result: RecordingResult) -> SavedTake:
    """Check the quality of a finished take and add it to the session in the database."""
    if result.path is None:
        raise AudioError(result.message or "Nothing was recorded, so there is nothing to save.")
    task_key = str(result.tags.get("task", FREE_TASK))
    take = int(result.tags.get("take", 1))
    return _store_take(store, session_id, result.path, task_key, take, result.device,
                       result.status)


def import_audio_file(store: PatientStore, session_id: int, source: str | Path,
                      task_key: str = FREE_TASK) -> SavedTake:
    """Copy an audio file into the session (as FLAC, without its metadata) and store it."""
    clip = read_audio(source)
    take = next_take_number(store, session_id, task_key)
    target = new_take_path(session_id, task_key, take)
    export_audio(clip, target, format="FLAC")
    return _store_take(store, session_id, target, task_key, take, "imported file", "imported")


def list_recoverable() -> list[RecoverableRecording]:
    """Takes cut off by a crash, kill or power loss, oldest first. Call before recording starts."""
    return recording_recovery.find_recoverable(paths.recordings_dir())


def recover_into_store(store: PatientStore, item: RecoverableRecording,
                       session_id: int | None = None) -> SavedTake:
    """Recover an unsaved take and add it to its session (or ``session_id``) as "recovered"."""
    session = session_id if session_id is not None else item.tags.get("session_id")
    if session is None:
        raise RecordsError(
            f"The unsaved recording {item.final_path.name} does not say which session it belongs "
            "to: choose a patient session to recover it into."
        )
    store.session_patient(int(session))
    path = recording_recovery.recover(item)
    return _store_take(store, int(session), path, str(item.tags.get("task", FREE_TASK)),
                       int(item.tags.get("take", 1)), item.device, "recovered")


def recover_all_into_store(store: PatientStore, task: Any = None) -> list[SavedTake | str]:
    """Recover every unsaved take: a :class:`SavedTake` or an error message for each."""
    items = list_recoverable()
    out: list[SavedTake | str] = []
    for index, item in enumerate(items):
        if task is not None:
            task.progress(index / max(len(items), 1), "recovering recordings")
            task.check_cancelled()
        try:
            out.append(recover_into_store(store, item))
        except (AudioError, RecordsError) as exc:
            out.append(str(exc))
    if task is not None:
        task.progress(1.0, "done")
    return out


def _store_take(store: PatientStore, session_id: int, path: Path, task_key: str, take: int,
                device: str, status: str) -> SavedTake:
    clip = read_audio(path)
    report = assess_quality(clip.samples, clip.rate_hz, criteria_for(task_key))
    recording_id = store.add_recording(
        session_id, str(path), clip.rate_hz, task=task_key, take=take, device=device,
        channels=clip.channels, duration_s=clip.duration_s, status=status,
        quality=report.to_dict(),
    )
    return SavedTake(recording_id, path, status, report)
