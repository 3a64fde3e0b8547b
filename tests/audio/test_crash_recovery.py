"""Crash safety: the raw data and journal on disk, recovery, and a real SIGKILL mid-recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from virtual_mic import normalized_xcorr, onset_by_xcorr, virtual_mic_fixture  # noqa: F401

from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.crash_safe_writer import (
    RAW_NAME,
    CrashSafeWriter,
    RecordingJournal,
    in_progress_folder,
)
from stethoscan.audio.recording_recovery import (
    discard_recoverable,
    find_recoverable,
    recover,
    recover_all,
)
from stethoscan.core.errors import AudioError

RATE = 16000


def _noise(frames: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal((frames, channels))).clip(-1, 1).astype(np.float32)


def _crash(writer: CrashSafeWriter) -> None:
    """What a killed process leaves: the raw file as written, no finalize."""
    writer._raw.close()


def test_finalize_round_trip_and_atomic(tmp_path):
    x = _noise(RATE * 2, channels=2)
    writer = CrashSafeWriter(tmp_path / "t.flac", RATE, 2, device="mic", tags={"task": "cough"})
    for start in range(0, len(x), 160):
        writer.write(x[start : start + 160])
    assert writer.duration_s == pytest.approx(2.0)
    path = writer.finalize()
    assert path == tmp_path / "t.flac" and not in_progress_folder(path).exists()
    clip = read_audio(path)
    assert (clip.rate_hz, clip.channels, clip.subtype) == (RATE, 2, "PCM_24")
    np.testing.assert_allclose(clip.samples, x, atol=2e-7 + 2**-23)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.flac"]


def test_out_of_range_samples_are_clipped_not_wrapped(tmp_path):
    writer = CrashSafeWriter(tmp_path / "loud.wav", RATE, 1, final_format="WAV")
    writer.write(np.array([[1.7], [-3.0], [0.5], [np.nan]], dtype=np.float32))
    clip = read_audio(writer.finalize())
    np.testing.assert_allclose(clip.mono(), [1.0, -1.0, 0.5, 0.0], atol=1e-6)


def test_journal_is_synced_at_least_every_interval(tmp_path):
    writer = CrashSafeWriter(tmp_path / "s.flac", RATE, 1, sync_interval_s=0.2)
    folder = in_progress_folder(tmp_path / "s.flac")
    writer.write(_noise(1600))
    assert RecordingJournal.load(folder).frames_synced == 0  # too early for a sync
    time.sleep(0.25)
    writer.write(_noise(1600))
    assert RecordingJournal.load(folder).frames_synced == 3200
    assert (folder / RAW_NAME).stat().st_size == 3200 * 4
    writer.discard()
    assert not folder.exists()


def test_recovery_keeps_every_complete_frame(tmp_path):
    x = _noise(RATE * 3, seed=1)
    writer = CrashSafeWriter(tmp_path / "sess" / "vowel.flac", RATE, 1, device="USB mic",
                             tags={"session_id": 7, "task": "vowel_a", "take": 2})
    for start in range(0, len(x), 320):
        writer.write(x[start : start + 320])
    _crash(writer)
    with open(in_progress_folder(writer.final_path) / RAW_NAME, "ab") as raw:
        raw.write(b"\x01\x02\x03")  # half a frame written when the power went off
    (item,) = find_recoverable(tmp_path)
    assert item.frames == len(x) and item.duration_s == pytest.approx(3.0)
    assert item.tags == {"session_id": 7, "task": "vowel_a", "take": 2} and item.device == "USB mic"
    path = recover(item)
    assert path == tmp_path / "sess" / "vowel.flac"
    np.testing.assert_allclose(read_audio(path).mono(), x[:, 0], atol=2e-7 + 2**-23)
    assert find_recoverable(tmp_path) == []


def test_recovery_never_overwrites_and_skips_broken_folders(tmp_path):
    writer = CrashSafeWriter(tmp_path / "a.flac", RATE, 1)
    writer.write(_noise(800))
    _crash(writer)
    (tmp_path / "a.flac").write_bytes(b"an earlier take")  # the same name is taken meanwhile
    broken = tmp_path / "b.flac.inprogress"
    broken.mkdir()
    (broken / "journal.json").write_text("{not json")
    (item,) = find_recoverable(tmp_path)
    path = recover(item)
    assert path.name == "a-recovered.flac"
    assert (tmp_path / "a.flac").read_bytes() == b"an earlier take"
    assert read_audio(path).frames == 800


def test_empty_take_is_removed_and_recover_all_goes_on(tmp_path):
    empty = CrashSafeWriter(tmp_path / "empty.flac", RATE, 1)
    _crash(empty)
    good = CrashSafeWriter(tmp_path / "good.flac", RATE, 1)
    good.write(_noise(1600))
    _crash(good)
    outcomes = dict((item.final_path.name, out) for item, out in recover_all(tmp_path))
    assert "no sound" in outcomes["empty.flac"]
    assert outcomes["good.flac"] == tmp_path / "good.flac"
    assert find_recoverable(tmp_path) == []


def test_discard_recoverable_and_existing_folder_refused(tmp_path):
    writer = CrashSafeWriter(tmp_path / "x.flac", RATE, 1)
    writer.write(_noise(100))
    _crash(writer)
    with pytest.raises(AudioError, match="recover or discard"):
        CrashSafeWriter(tmp_path / "x.flac", RATE, 1)
    (item,) = find_recoverable(tmp_path)
    discard_recoverable(item)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.audio_stack
@pytest.mark.slow
def test_sigkill_mid_recording_loses_at_most_the_last_second(virtual_mic, tmp_path):
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(tmp_path / "raw.wav"), "one two three four"], check=True)
    subprocess.run(["sox", str(tmp_path / "raw.wav"), "-r", "48000", str(speech)], check=True)
    out = tmp_path / "takes" / "killed.flac"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stethoscan", "record", "--seconds", "60", "--device",
         virtual_mic.device, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    player = None
    try:
        started_at = _wait_for_line(proc, "started at", timeout_s=20.0)
        player = virtual_mic.play(speech)
        time.sleep(3.5)
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if player is not None:
            player.wait(timeout=10)
    recorded_s = killed_at - started_at  # at least this much was recorded before the kill
    assert not out.exists() and in_progress_folder(out).exists()
    result = subprocess.run(
        [sys.executable, "-m", "stethoscan", "record", "--recover", str(tmp_path / "takes"), "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["ok"] and Path(row["result"]) == out
    clip = read_audio(out)
    print(f"killed after {recorded_s:.3f} s of recording; recovered {clip.duration_s:.3f} s")
    assert recorded_s - 0.9 <= clip.duration_s <= recorded_s + 0.3
    played = read_audio(speech).mono()
    recorded = clip.mono()
    onset = onset_by_xcorr(recorded, played)
    assert onset >= 0 and onset + len(played) <= len(recorded)
    assert normalized_xcorr(recorded[onset : onset + len(played)], played) > 0.9


def _wait_for_line(proc: subprocess.Popen, text: str, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return time.monotonic()
        if not line and proc.poll() is not None:
            raise AssertionError(f"recorder exited: {proc.stderr.read()}")
    raise AssertionError(f"no '{text}' line within {timeout_s} s")
