"""The guided protocols, their quality checks, and saving takes to the patient database."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.capture_stream import RecordingResult
from stethoscan.audio.crash_safe_writer import CrashSafeWriter
from stethoscan.audio.recording_tasks import RECORDING_TASKS, assess_take, get_task
from stethoscan.core import paths
from stethoscan.core.errors import ValidationError
from stethoscan.records.patient_store import PatientStore
from stethoscan.workflows import recording_session as rs

RATE = 16000


def test_every_protocol_is_complete():
    keys = [t.key for t in RECORDING_TASKS]
    assert keys == ["vowel_a", "reading", "counting", "cough", "tidal_breathing",
                    "deep_breathing", "forced_expiration"]
    for task in RECORDING_TASKS:
        assert task.prompt.endswith(".") and len(task.prompt) > 30
        assert task.record_s > task.criteria.min_active_s and task.takes >= 1
        assert task.kind in ("voice", "breath", "cough")
    vowel = get_task("vowel_a")
    assert vowel.takes == 3 and vowel.target_text == "3-6 s of sound"
    assert "North Wind" in get_task("reading").passage
    assert get_task("cough").criteria.expected_events == 5
    assert get_task("tidal_breathing").criteria.min_take_s == 30.0
    with pytest.raises(ValidationError, match="vowel_a"):
        get_task("singing")


def _vowel(seconds: float, lead_s: float = 1.0, amplitude: float = 0.2) -> np.ndarray:
    total = lead_s + seconds + 0.5
    t = np.arange(int(total * RATE)) / RATE
    rng = np.random.default_rng(0)
    gate = np.clip(np.minimum(t - lead_s, lead_s + seconds - t) / 0.03, 0, 1)
    voice = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 8)) / 2
    return (amplitude * voice * gate + 0.0003 * rng.standard_normal(t.size)).astype(np.float32)


def test_vowel_takes_are_judged_by_their_duration():
    task = get_task("vowel_a")
    assert assess_take(task, _vowel(4.0), RATE).passed
    assert assess_take(task, _vowel(2.1), RATE).problems == [
        "too short: 2.1 s of sound, the task needs 3-6 s"]
    assert assess_take(task, _vowel(4.0, amplitude=0.002), RATE).problems == [
        "too quiet: move the microphone closer"]


def test_real_speech_counting_task(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (Debian package espeak-ng)")
    words = " ".join(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                      "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                      "seventeen", "eighteen", "nineteen", "twenty"])
    subprocess.run(["espeak-ng", "-s", "120", "-w", str(tmp_path / "count.wav"), words], check=True)
    clip = read_audio(tmp_path / "count.wav")
    rng = np.random.default_rng(0)
    x = np.concatenate([np.zeros(clip.rate_hz), clip.mono()])
    x = (x + 0.001 * rng.standard_normal(x.size)).astype(np.float32)
    report = assess_take(get_task("counting"), x, clip.rate_hz)
    assert report.passed, report.problems
    assert 5.0 < report.active_s < report.duration_s - 1.0
    far = assess_take(get_task("counting"), x * 0.003, clip.rate_hz)
    assert "too quiet: move the microphone closer" in far.problems


@pytest.fixture
def store(tmp_path):
    store = PatientStore(tmp_path / "db.sqlite3")
    yield store
    store.close()


def _finished_take(session_id: int, task: str, take: int, samples: np.ndarray) -> RecordingResult:
    path = rs.new_take_path(session_id, task, take)
    writer = CrashSafeWriter(path, RATE, 1, device="test mic",
                             tags={"session_id": session_id, "task": task, "take": take})
    writer.write(samples)
    writer.finalize()
    return RecordingResult(path, RATE, 1, len(samples), 0, "test mic", "complete",
                           tags={"session_id": session_id, "task": task, "take": take})


def test_takes_are_saved_to_the_session_with_their_quality(store):
    patient = store.upsert_patient("P-1", "Test Patient")
    session = store.start_session(patient.id)
    assert rs.next_take_number(store, session, "vowel_a") == 1
    good = rs.save_take(store, session, _finished_take(session, "vowel_a", 1, _vowel(4.0)))
    short = rs.save_take(store, session, _finished_take(session, "vowel_a", 2, _vowel(2.1)))
    assert rs.next_take_number(store, session, "vowel_a") == 3
    assert good.report.passed and not short.report.passed
    first, second = store.list_recordings(session_id=session)
    assert (first.task, first.take, first.status, first.device) == ("vowel_a", 1, "complete", "test mic")
    assert first.sample_rate_hz == RATE and first.duration_s == pytest.approx(5.5)
    assert first.quality["passed"] is True and second.quality["problems"][0].startswith("too short")
    assert first.path.startswith(str(paths.recordings_dir() / str(session)))
    assert "Test Patient" not in first.path and "P-1" not in first.path


def test_recoverable_takes_return_to_their_session(store):
    patient = store.upsert_patient("P-2")
    session = store.start_session(patient.id)
    path = rs.new_take_path(session, "cough", 1)
    writer = CrashSafeWriter(path, RATE, 1, device="usb",
                             tags={"session_id": session, "task": "cough", "take": 1})
    writer.write(_vowel(2.0))
    writer._raw.close()  # the program died here
    pending = rs.list_recoverable()
    assert [item.final_path for item in pending] == [path]
    (saved,) = rs.recover_all_into_store(store, None)
    assert saved.status == "recovered" and saved.path == path
    (row,) = store.list_recordings(session_id=session)
    assert (row.status, row.task, row.device) == ("recovered", "cough", "usb")
    assert rs.list_recoverable() == []


def test_import_copies_without_metadata(store, tmp_path):
    import soundfile as sf

    source = tmp_path / "outside.wav"
    with sf.SoundFile(source, "w", RATE, 1, subtype="PCM_16") as handle:
        handle.title = "Jane Doe"
        handle.write(_vowel(3.5))
    session = store.start_session(store.upsert_patient("P-3").id)
    saved = rs.import_audio_file(store, session, source)
    assert saved.status == "imported" and saved.path.suffix == ".flac"
    assert b"Jane" not in saved.path.read_bytes()
    assert store.list_recordings(session_id=session)[0].status == "imported"


def test_startup_recovery_entry_point(store):
    session = store.start_session(store.upsert_patient("P-4").id)
    writer = CrashSafeWriter(rs.new_take_path(session, "vowel_a", 1), RATE, 1,
                             tags={"session_id": session, "task": "vowel_a", "take": 1})
    writer.write(_vowel(3.5))
    writer._raw.close()
    (item,) = rs.list_recoverable()
    saved = rs.recover_into_store(store, item)
    assert saved.status == "recovered" and saved.report.passed
