"""dBFS levels, peak hold and the latched clip indicator."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.audio.level_metering import (
    FLOOR_DBFS,
    LevelMeter,
    amplitude_to_dbfs,
    peak_dbfs,
    rms_dbfs,
)

RATE = 48000
BLOCK = 480


def _sine(amplitude: float, seconds: float = 0.01) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amplitude * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None]


def test_levels_of_known_signals():
    assert peak_dbfs(_sine(1.0, 0.1)) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(_sine(1.0, 0.1)) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs(_sine(0.1, 0.1)) == pytest.approx(-23.01, abs=0.01)
    assert amplitude_to_dbfs(0.5) == pytest.approx(-6.02, abs=0.01)
    silence = np.zeros((BLOCK, 2), np.float32)
    assert rms_dbfs(silence) == FLOOR_DBFS and peak_dbfs(silence) == FLOOR_DBFS
    assert rms_dbfs(np.zeros((0, 1), np.float32)) == FLOOR_DBFS


def test_peak_hold_holds_then_falls():
    meter = LevelMeter(RATE, hold_s=0.5, fall_db_per_s=20.0)
    assert meter.update(_sine(0.5)).peak_hold_dbfs == pytest.approx(-6.02, abs=0.05)
    quiet = _sine(0.01)
    readings = [meter.update(quiet) for _ in range(150)]  # 1.5 s of -40 dBFS blocks
    assert readings[40].peak_hold_dbfs == pytest.approx(-6.02, abs=0.05)  # 0.41 s: held
    assert readings[99].peak_hold_dbfs == pytest.approx(-6.02 - 20 * 0.5, abs=0.3)  # fell 0.5 s
    assert readings[-1].peak_hold_dbfs == pytest.approx(-16.02 - 20 * 0.5, abs=0.3)
    assert readings[-1].peak_dbfs == pytest.approx(-40.0, abs=0.1)
    assert all(r.peak_hold_dbfs >= r.peak_dbfs for r in readings)


def test_clip_indicator_latches_until_reset():
    meter = LevelMeter(RATE)
    assert not meter.update(_sine(0.9)).clipped
    clipped = np.clip(_sine(2.0), -1, 1)
    reading = meter.update(clipped)
    assert reading.clipped and reading.clipped_samples > 100
    later = [meter.update(_sine(0.1)) for _ in range(300)]
    assert all(r.clipped for r in later)  # latched for 3 s of quiet sound
    meter.reset_clip()
    assert not meter.update(_sine(0.1)).clipped


def test_multichannel_block_counts_every_channel():
    block = np.zeros((BLOCK, 2), np.float32)
    block[:10, 1] = 1.0
    reading = LevelMeter(RATE).update(block)
    assert reading.clipped_samples == 10 and reading.peak_dbfs == 0.0
