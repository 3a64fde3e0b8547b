"""Quality figures of a take and the problems worded for the clinician."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.signal_quality import (
    QualityCriteria,
    assess_quality,
    clipping,
    estimate_snr_db,
)

RATE = 16000


def _take(segments: list[tuple[float, float]], total_s: float, amplitude: float = 0.2,
          noise_rms: float = 0.0005, seed: int = 0) -> np.ndarray:
    """Noise with harmonic "voice" between (start, end) seconds, 20 ms ramps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(total_s * RATE)) / RATE
    x = noise_rms * rng.standard_normal(t.size)
    voice = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6)) / 1.5
    for start, end in segments:
        gate = np.clip(np.minimum(t - start, end - t) / 0.02, 0, 1)
        x += amplitude * voice * gate
    return x.astype(np.float32)


@pytest.mark.parametrize("snr_db", [10.0, 20.0, 30.0])
def test_snr_estimate_of_bursts_in_noise(snr_db):
    rng = np.random.default_rng(3)
    t = np.arange(RATE * 6) / RATE
    noise = 0.01 * rng.standard_normal(t.size)
    tone = np.sqrt(2) * 0.01 * 10 ** (snr_db / 20) * np.sin(2 * np.pi * 440 * t)
    x = noise + tone * (np.sin(2 * np.pi * 0.5 * t) > 0)  # sound half of the time
    assert estimate_snr_db(x.astype(np.float32), RATE) == pytest.approx(snr_db, abs=1.5)


def test_good_take_has_no_problems():
    report = assess_quality(_take([(1.0, 5.0)], 6.0), RATE,
                            QualityCriteria(min_active_s=3.0, max_active_s=6.0))
    assert report.passed and report.problems == []
    assert report.active_s == pytest.approx(4.0, abs=0.06)
    assert report.snr_db > 40 and report.clipped_samples == 0
    assert report.longest_silence_s == pytest.approx(1.0, abs=0.06)
    assert report.events == 1 and report.duration_s == pytest.approx(6.0)
    data = report.to_dict()
    assert data["passed"] is True and data["active_s"] == report.active_s


def test_too_short_take_says_how_long_and_what_is_needed():
    report = assess_quality(_take([(1.0, 3.1)], 5.0), RATE,
                            QualityCriteria(min_active_s=3.0, max_active_s=6.0))
    assert report.problems == ["too short: 2.1 s of sound, the task needs 3-6 s"]
    too_long = assess_quality(_take([(0.5, 8.0)], 9.0), RATE,
                              QualityCriteria(min_active_s=3.0, max_active_s=6.0))
    assert too_long.problems == ["too long: 7.5 s of sound, the task needs 3-6 s"]


def test_clipped_quiet_noisy_and_silent_takes():
    loud = np.clip(_take([(1.0, 4.0)], 5.0, amplitude=3.0), -1, 1)
    assert clipping(loud)[1] > 0.05
    assert "clipped: move the microphone away or lower the input gain" in assess_quality(loud, RATE).problems
    quiet = _take([(1.0, 4.0)], 5.0, amplitude=0.002, noise_rms=0.00001)
    assert "too quiet: move the microphone closer" in assess_quality(quiet, RATE).problems
    noisy = _take([(1.0, 4.0)], 5.0, amplitude=0.05, noise_rms=0.03)
    problems = assess_quality(noisy, RATE).problems
    assert len(problems) >= 1 and problems[0].startswith("too noisy:")
    silent = np.zeros(RATE * 3, np.float32)
    assert assess_quality(silent, RATE).problems[0].startswith("no sound:")


def test_events_are_counted_and_missing_ones_reported():
    bursts = [(0.5 + 0.7 * i, 0.8 + 0.7 * i) for i in range(5)]
    criteria = QualityCriteria(min_active_s=0.5, expected_events=5, event_gap_s=0.2)
    five = assess_quality(_take(bursts, 4.5), RATE, criteria)
    assert five.events == 5 and five.passed
    three = assess_quality(_take(bursts[:3], 4.5), RATE, criteria)
    assert three.events == 3
    assert three.problems == [
        "3 separate sounds found, the task asks for 5: repeat with a short pause between them"]


def test_take_stopped_early():
    report = assess_quality(_take([(0.5, 11.5)], 12.0), RATE, QualityCriteria(min_take_s=30.0))
    assert report.problems == ["stopped early: 12.0 s recorded, the task needs 30 s"]


@pytest.mark.real_data
def test_real_recordings_get_sensible_figures(shared_data):
    for path in sorted((shared_data / "icbhi-sample").glob("*.wav")):
        clip = read_audio(path)
        report = assess_quality(clip.samples, clip.rate_hz)
        assert 0 < report.active_s <= report.duration_s
        assert 3.0 < report.snr_db < 60.0
        assert not any(p.startswith("no sound") for p in report.problems)
