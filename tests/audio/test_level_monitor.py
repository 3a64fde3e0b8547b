"""The level check ("Check level") through the real audio stack, and that it writes nothing.

A 1 kHz tone at a known level is played into the PulseAudio null sink while a
:class:`LevelMonitor` listens to its monitor (ALSA pulse -> PortAudio -> sounddevice); the live
blocks must carry that tone at that level, no file may appear, and a take must be able to open
the device right after the check stops. Unloading the sink ("unplugging") must be reported.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from virtual_mic import virtual_mic_fixture  # noqa: F401

from stethoscan.audio import audio_devices
from stethoscan.audio.capture_stream import CaptureConfig, Recorder
from stethoscan.audio.level_metering import LevelMeter
from stethoscan.audio.level_monitor import LevelMonitor
from stethoscan.core.errors import AudioDeviceError, AudioError

RATE = 48000
TONE_HZ = 1000.0
TONE_PEAK = 0.1  # -20.0 dBFS peak, -23.01 dBFS RMS
pytestmark = [pytest.mark.audio_stack]


def write_tone(path: Path, seconds: float, peak: float = TONE_PEAK, hz: float = TONE_HZ) -> Path:
    """A sine of ``hz`` Hz at ``peak`` (full scale 1.0), 16-bit 48 kHz mono, 10 ms fades."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = peak * np.sin(2 * np.pi * hz * t)
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
    sf.write(path, tone * fade, RATE, subtype="PCM_16")
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def wait_event(source, kind: str, timeout_s: float, blocks: list | None = None) -> list:
    events: list = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new_blocks = source.read_live_blocks()
        if blocks is not None:
            blocks.extend(new_blocks)
        events.extend(source.poll_events())
        if any(e.kind == kind for e in events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"no '{kind}' event within {timeout_s} s; got {[e.kind for e in events]}")


def meter_readings(blocks: list[np.ndarray]) -> list:
    """What the studio's meter shows, tick by tick (the blocks in ~30 ms groups)."""
    meter = LevelMeter(RATE)
    return [meter.update(np.concatenate(blocks[i : i + 3])) for i in range(0, len(blocks), 3)]


@pytest.fixture
def fresh_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("STETHOSCAN_HOME", str(home))
    return home


def test_monitor_carries_the_played_tone_at_its_level_and_writes_nothing(
        virtual_mic, tmp_path, fresh_home):
    tone = write_tone(tmp_path / "tone.wav", 1.2)
    before_home, before_tmp = files_under(fresh_home), files_under(tmp_path)
    cwd_before = set(os.listdir(os.getcwd()))
    monitor = LevelMonitor(CaptureConfig(device=virtual_mic.device, rate_hz=RATE, block_ms=10.0))
    blocks: list[np.ndarray] = []
    with monitor:
        assert audio_devices._open_streams >= 1  # a rescan is refused while listening
        wait_event(monitor, "started", 10.0, blocks)
        player = virtual_mic.play(tone)
        assert player.wait(timeout=20) == 0, player.stderr.read()
        time.sleep(0.3)
        blocks.extend(monitor.read_live_blocks())
        events = monitor.poll_events()
        status = monitor.status()
    assert status.state == "monitoring" and status.device == "pulse (ALSA)"
    assert status.overflows == 0 and status.live_dropped == 0
    assert status.elapsed_s == pytest.approx(sum(len(b) for b in blocks) / RATE, abs=0.05)
    assert all(b.dtype == np.float32 and b.shape[1] == 1 and len(b) <= RATE // 50 for b in blocks)
    assert not any(e.kind == "device_failed" for e in events)
    assert [e.kind for e in monitor.poll_events()] == ["stopped"] and monitor.state == "stopped"
    # The meter reads the tone's level: RMS -23.01 dBFS, peak -20.0 dBFS (within 1 dB).
    readings = meter_readings(blocks)
    loud = [r for r in readings if r.rms_dbfs > -40.0]
    assert len(loud) * 0.03 >= 1.0  # about the 1.2 s played (ticks of 30 ms)
    rms = float(np.median([r.rms_dbfs for r in loud]))
    print(f"meter: RMS {rms:.2f} dBFS (expected -23.01), "
          f"peak {max(r.peak_dbfs for r in loud):.2f} dBFS (expected -20.00)")
    assert rms == pytest.approx(-23.01, abs=1.0)
    assert max(r.peak_dbfs for r in loud) == pytest.approx(-20.0, abs=1.0)
    assert not any(r.clipped for r in readings)
    # ... and it is the 1 kHz tone, not some other sound.
    x = np.concatenate(blocks)[:, 0]
    onset = int(np.flatnonzero(np.abs(x) > TONE_PEAK / 2)[0])
    loudest = x[onset + RATE // 10 :][: RATE // 2]
    assert len(loudest) == RATE // 2
    spectrum = np.abs(np.fft.rfft(loudest * np.hanning(len(loudest))))
    assert np.fft.rfftfreq(len(loudest), 1 / RATE)[np.argmax(spectrum)] == pytest.approx(
        TONE_HZ, abs=4.0)
    # Nothing was written: not in the app's home, not beside the test, not in the working folder.
    assert files_under(fresh_home) == before_home
    assert files_under(tmp_path) == before_tmp
    assert set(os.listdir(os.getcwd())) == cwd_before
    # The device is free again: a take opens it right away.
    assert audio_devices._open_streams == 0
    take = Recorder(tmp_path / "take.wav", CaptureConfig(device=virtual_mic.device),
                    final_format="WAV")
    take.start()
    try:
        wait_event(take, "started", 10.0)
    finally:
        take.discard()
    assert take.state == "discarded"


def test_unplugging_the_microphone_during_the_check_is_reported(virtual_mic, fresh_home):
    monitor = LevelMonitor(CaptureConfig(device=virtual_mic.device))
    monitor.start()
    try:
        wait_event(monitor, "started", 10.0)
        time.sleep(0.3)
        unplugged_at = virtual_mic.unload_sink()
        events = wait_event(monitor, "device_failed", 5.0)
        noticed_s = time.monotonic() - unplugged_at
    finally:
        monitor.stop()
        virtual_mic.reload_sink()
    print(f"unplug noticed after {noticed_s:.3f} s")
    failed = next(e for e in events if e.kind == "device_failed")
    assert failed.message.startswith("The microphone pulse (ALSA) stopped")
    assert "unplugged or failing" in failed.message and "Nothing was being recorded" in failed.message
    assert monitor.state == "failed" and audio_devices._open_streams == 0
    assert monitor.poll_events() == []  # no "stopped" after a failure: it had already stopped
    assert files_under(fresh_home) == set()


def test_a_missing_microphone_is_refused_in_words(virtual_mic):
    monitor = LevelMonitor(CaptureConfig(device="USB Stethoscope"))
    with pytest.raises(AudioDeviceError, match="'USB Stethoscope' is not connected"):
        monitor.start()
    assert monitor.state == "idle" and audio_devices._open_streams == 0
    monitor.stop()  # nothing to stop: no error
    with pytest.raises(AudioError, match="0-20 ms"):
        LevelMonitor(CaptureConfig(block_ms=40.0))
