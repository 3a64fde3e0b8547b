"""Recording through the real audio stack: PulseAudio null sink -> ALSA pulse -> PortAudio.

Known sounds (espeak-ng speech, real ICBHI stethoscope recordings) are played into the virtual
microphone while a :class:`Recorder` records; the saved file must hold what was played.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from virtual_mic import (  # noqa: F401
    normalized_xcorr,
    onset_by_xcorr,
    sound_extent_s,
    virtual_mic_fixture,
)

from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.capture_stream import CaptureConfig, Recorder
from stethoscan.audio.crash_safe_writer import in_progress_folder

RATE = 48000
pytestmark = [pytest.mark.audio_stack, pytest.mark.slow]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (Debian package {tool})")


def _to_48k(src: Path, dst: Path, *effects: str) -> Path:
    _need("sox")
    subprocess.run(["sox", str(src), "-r", str(RATE), "-c", "1", "-b", "16", str(dst), *effects,
                    "rate", "-v", str(RATE)], check=True, capture_output=True)
    return dst


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory) -> Path:
    _need("espeak-ng")
    folder = tmp_path_factory.mktemp("speech")
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Take a deep breath and count from one to five."],
                   check=True, capture_output=True)
    return _to_48k(raw, folder / "speech48k.wav")


def wait_for(rec: Recorder, kind: str, timeout_s: float, seen: list) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for block in rec.read_live_blocks():
            assert block.shape[0] * 1000 / RATE <= 20.0
        seen.extend(rec.poll_events())
        if any(e.kind == kind for e in seen):
            return
        time.sleep(0.02)
    raise AssertionError(f"no '{kind}' event within {timeout_s} s; got {[e.kind for e in seen]}")


def record_while_playing(mic, played: Path, out: Path, tail_s: float = 0.5):
    rec = Recorder(out, CaptureConfig(device=mic.device, rate_hz=RATE, block_ms=10.0))
    rec.start()
    events: list = []
    try:
        wait_for(rec, "started", 10.0, events)
        time.sleep(0.2)
        player = mic.play(played)
        assert player.wait(timeout=30) == 0, player.stderr.read()
        time.sleep(tail_s)
    finally:
        result = rec.stop()
    events.extend(rec.poll_events())
    return result, events


def assert_recording_matches(result, played_path: Path) -> None:
    played = read_audio(played_path).mono()
    recorded = read_audio(result.path)
    assert recorded.rate_hz == RATE and recorded.channels == 1
    rec = recorded.mono()
    onset = onset_by_xcorr(rec, played)
    assert 0 <= onset and onset + len(played) <= len(rec), "the played sound is not all there"
    segment = rec[onset : onset + len(played)]
    assert normalized_xcorr(segment, played) > 0.9
    start_p, end_p = sound_extent_s(played, RATE)
    start_r, end_r = sound_extent_s(rec, RATE)
    assert abs((end_r - start_r) - (end_p - start_p)) <= 0.05  # same length of sound, +-50 ms
    assert abs(start_r - (onset / RATE + start_p)) <= 0.05
    gain_db = 20 * np.log10(np.std(segment) / np.std(played))
    assert abs(gain_db) < 1.0  # the stack passes the level through unchanged


def test_speech_recorded_through_the_real_stack(virtual_mic, speech_wav, tmp_path):
    result, events = record_while_playing(virtual_mic, speech_wav, tmp_path / "speech.flac")
    assert result.status == "complete" and result.overflows == 0
    assert [e.kind for e in events][0] == "started" and events[-1].kind == "finished"
    assert events[-1].result == result
    assert not in_progress_folder(result.path).exists()
    assert_recording_matches(result, speech_wav)


@pytest.mark.real_data
@pytest.mark.parametrize("name", ["101_1b1_Al_sc_Meditron.wav", "104_1b1_Ll_sc_Litt3200.wav"])
def test_stethoscope_recording_through_the_real_stack(virtual_mic, shared_data, tmp_path, name):
    played = _to_48k(shared_data / "icbhi-sample" / name, tmp_path / "played.wav",
                     "trim", "2", "3", "fade", "0.01", "0", "0.01")
    result, _ = record_while_playing(virtual_mic, played, tmp_path / "chest.flac", tail_s=0.3)
    assert result.status == "complete" and result.overflows == 0
    assert_recording_matches(result, played)


def test_pause_resume_and_time_limit(virtual_mic, tmp_path):
    _need("sox")
    tone = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(tone), "synth", "2.5",
                    "sine", "300", "vol", "0.3"], check=True)
    rec = Recorder(tmp_path / "paused.wav", CaptureConfig(device=virtual_mic.device),
                   final_format="WAV", max_duration_s=1.5)
    rec.start()
    events: list = []
    player = None
    try:
        wait_for(rec, "started", 10.0, events)
        player = virtual_mic.play(tone)
        time.sleep(0.5)
        rec.pause()
        paused_at = rec.status().elapsed_s
        time.sleep(0.6)
        assert rec.status().elapsed_s == pytest.approx(paused_at, abs=0.03)
        rec.resume()
        result = rec.wait(10.0)
    finally:
        rec.stop()
        if player is not None:
            player.wait(timeout=10)
    events.extend(rec.poll_events())
    kinds = [e.kind for e in events]
    assert kinds.index("paused") < kinds.index("resumed") < kinds.index("finished")
    assert result is not None and result.status == "complete"
    assert result.frames == int(1.5 * RATE)  # stopped on its own at exactly the time limit
    clip = read_audio(result.path)
    assert clip.format == "WAV" and clip.frames == result.frames


def test_discard_leaves_nothing(virtual_mic, tmp_path):
    rec = Recorder(tmp_path / "gone.flac", CaptureConfig(device=virtual_mic.device))
    rec.start()
    try:
        wait_for(rec, "started", 10.0, [])
        time.sleep(0.3)
    finally:
        rec.discard()
    assert rec.state == "discarded" and rec.result.path is None
    assert list(tmp_path.iterdir()) == []
