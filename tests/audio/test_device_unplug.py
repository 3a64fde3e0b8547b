"""A failing or unplugged microphone is noticed within a second and the take so far is kept."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from virtual_mic import normalized_xcorr, onset_by_xcorr, virtual_mic_fixture  # noqa: F401

from stethoscan.audio import capture_stream
from stethoscan.audio.audio_devices import InputDevice
from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.capture_stream import CaptureConfig, Recorder
from stethoscan.core.errors import AudioDeviceError

RATE = 48000


def _events_until(rec: Recorder, kind: str, timeout_s: float) -> tuple[list, float]:
    events: list = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rec.read_live_blocks()
        new = rec.poll_events()
        events.extend(new)
        if any(e.kind == kind for e in new):
            return events, time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"no '{kind}' within {timeout_s} s: {[e.kind for e in events]}")


@pytest.mark.audio_stack
@pytest.mark.slow
def test_unloading_the_virtual_microphone_keeps_the_take(virtual_mic, tmp_path):
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(tmp_path / "raw.wav"), "one two three four five six"],
                   check=True)
    subprocess.run(["sox", str(tmp_path / "raw.wav"), "-r", str(RATE), str(speech)], check=True)
    rec = Recorder(tmp_path / "unplugged.flac", CaptureConfig(device=virtual_mic.device))
    rec.start()
    player = None
    try:
        _events_until(rec, "started", 10.0)
        player = virtual_mic.play(speech)
        time.sleep(1.8)
        recorded_before_s = rec.status().elapsed_s
        unplugged_at = virtual_mic.unload_sink()
        events, noticed_at = _events_until(rec, "device_failed", 5.0)
        result = rec.wait(10.0)
    finally:
        rec.stop()
        virtual_mic.reload_sink()
        if player is not None:
            player.terminate()
            player.wait(timeout=10)
    print(f"unplug noticed after {noticed_at - unplugged_at:.3f} s")
    assert noticed_at - unplugged_at <= 1.0
    failed = next(e for e in events if e.kind == "device_failed")
    assert "saved" in failed.message and "microphone" in failed.message
    assert result is not None and result.status == "interrupted" and result.path.exists()
    assert rec.state == "failed"
    clip = read_audio(result.path)
    assert recorded_before_s - 0.05 <= clip.duration_s <= recorded_before_s + 0.8
    played = read_audio(speech).mono()
    recorded = clip.mono()
    onset = onset_by_xcorr(recorded, played)
    kept = recorded[onset:]
    assert len(kept) > RATE // 2
    assert normalized_xcorr(kept, played[: len(kept)]) > 0.9


class FakeStream:
    """Stands in for sounddevice.InputStream: calls back every 10 ms until told otherwise."""

    def __init__(self, callback, finished_callback, blocks: int | None, end_stream: bool) -> None:
        self.callback, self.finished_callback = callback, finished_callback
        self.blocks, self.end_stream = blocks, end_stream
        self.active = True
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="Dummy-fake-portaudio")
        self._thread.start()

    def _run(self) -> None:
        status = type("Status", (), {"input_overflow": False})()
        sent = 0
        while not self._halt.wait(0.01):
            if self.blocks is not None and sent >= self.blocks:
                if self.end_stream and self.active:
                    self.active = False
                    self.finished_callback()
                continue
            self.callback(np.full((480, 1), 0.1, np.float32), 480, None, status)
            sent += 1

    def abort(self, ignore_errors: bool = True) -> None:
        self._halt.set()
        self._thread.join()

    def close(self, ignore_errors: bool = True) -> None:
        self.abort()


@pytest.fixture
def fake_device(monkeypatch):
    """Recorder with a fake PortAudio stream; returns a setter for its behaviour."""
    behaviour = {"blocks": None, "end_stream": False}
    device = InputDevice(0, "fake mic", "Fake", 1, RATE, True)
    monkeypatch.setattr(capture_stream, "find_input_device", lambda _device: device)

    def open_stream(self, _index):
        return FakeStream(self._callback, self._on_stream_finished, **behaviour)

    monkeypatch.setattr(Recorder, "_open_stream", open_stream)
    return behaviour


@pytest.mark.parametrize(("end_stream", "max_delay_s"), [(False, 1.0), (True, 0.3)])
def test_stalled_or_ended_stream_is_a_device_failure(fake_device, tmp_path, end_stream, max_delay_s):
    fake_device.update(blocks=50, end_stream=end_stream)  # 0.5 s of sound, then nothing
    rec = Recorder(tmp_path / "x.flac", CaptureConfig())
    rec.start()
    try:
        _events_until(rec, "started", 2.0)
        while rec.status().elapsed_s < 0.5:
            time.sleep(0.005)
        last_block_at = time.monotonic()
        _, noticed_at = _events_until(rec, "device_failed", 3.0)
        result = rec.wait(5.0)
    finally:
        rec.stop()
    assert noticed_at - last_block_at <= max_delay_s
    assert result.status == "interrupted" and result.frames == 50 * 480
    assert read_audio(result.path).frames == 50 * 480


def test_no_sound_at_all_is_reported(fake_device, tmp_path):
    fake_device.update(blocks=0)
    rec = Recorder(tmp_path / "x.flac", CaptureConfig(start_timeout_s=0.3))
    rec.start()
    try:
        events, _ = _events_until(rec, "device_failed", 3.0)
        result = rec.wait(5.0)
    finally:
        rec.stop()
    assert "sent no sound" in next(e for e in events if e.kind == "device_failed").message
    assert result.path is None and not list(tmp_path.iterdir())


def test_missing_device_and_missing_portaudio_raise_clear_errors(monkeypatch, tmp_path):
    from stethoscan.audio import audio_devices

    monkeypatch.setattr(audio_devices, "list_input_devices", lambda: [
        InputDevice(3, "Built-in", "ALSA", 2, 44100, True)])
    with pytest.raises(AudioDeviceError, match="not connected"):
        Recorder(tmp_path / "x.flac", CaptureConfig(device="USB stethoscope")).start()
    monkeypatch.setattr(audio_devices, "list_input_devices", lambda: [])
    with pytest.raises(AudioDeviceError, match="No microphone was found"):
        Recorder(tmp_path / "x.flac", CaptureConfig()).start()
    assert not list(tmp_path.iterdir())
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(AudioDeviceError, match="libportaudio2"):
        audio_devices.load_sounddevice()


def test_discard_after_the_time_limit_deletes_the_file(fake_device, tmp_path):
    rec = Recorder(tmp_path / "x.flac", CaptureConfig(), max_duration_s=0.2)
    rec.start()
    try:
        finished = rec.wait(5.0)
    finally:
        rec.stop()
    assert finished.path.exists() and finished.frames == int(0.2 * RATE)
    rec.discard()
    assert rec.state == "discarded" and rec.result.path is None
    assert not list(tmp_path.iterdir())
    assert [e.kind for e in rec.poll_events()][-1] == "discarded"
