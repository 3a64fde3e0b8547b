"""The incremental live spectrogram equals librosa's, whatever the block sizes."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from stethoscan.audio.live_spectrogram import LiveSpectrogram, LiveWaveform

RATE = 48000


def _reference_db(x: np.ndarray, spec: LiveSpectrogram) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=x, sr=RATE, n_fft=spec.n_fft, hop_length=spec.hop, n_mels=spec.n_mels, fmin=20.0,
        center=False, norm=None, htk=False, window="hann", power=2.0,
    )
    return 10 * np.log10(np.maximum(mel * spec._scale, 1e-12)).T


@pytest.mark.parametrize("block", [480, 137, 1024, 4800])
def test_columns_match_librosa_for_any_block_size(block):
    x = (0.2 * np.random.default_rng(1).standard_normal(RATE)).astype(np.float32)
    spec = LiveSpectrogram(RATE)
    columns = np.concatenate([spec.push(x[i : i + block]) for i in range(0, len(x), block)])
    reference = _reference_db(x, spec)
    assert columns.shape == reference.shape == (98, 64)
    np.testing.assert_allclose(columns, reference, atol=1e-3)


def test_full_scale_sine_reads_about_0_db_in_its_band():
    t = np.arange(RATE) / RATE
    spec = LiveSpectrogram(RATE)
    columns = spec.push((np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None])
    loudest = int(np.argmax(columns[50]))
    assert abs(spec.mel_frequencies_hz[loudest] - 1000) < 60
    assert -3.0 < columns[50, loudest] <= 0.5
    assert columns[50, 5] < -60  # far from 1 kHz it is quiet


def test_image_keeps_only_the_window_oldest_first():
    spec = LiveSpectrogram(RATE, window_s=0.5)  # 50 columns
    quiet = np.zeros(RATE // 2, np.float32)
    loud = (0.5 * np.random.default_rng(0).standard_normal(RATE // 4)).astype(np.float32)
    spec.push(quiet)
    spec.push(loud)
    image = spec.image()
    assert image.shape == (50, 64)
    assert image[:20].mean() < -100 and image[-10:].mean() > -40  # newest (loud) last


def test_waveform_envelope():
    wave = LiveWaveform(RATE, window_s=1.0, bucket_s=0.01)
    t = np.arange(RATE * 2) / RATE
    x = (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    for i in range(0, len(x), 333):
        wave.push(x[i : i + 333, None] if i % 2 else x[i : i + 333])
    times, lows, highs = wave.envelope()
    assert len(times) == 100 and times[-1] == 0.0 and times[0] == pytest.approx(-0.99)
    np.testing.assert_allclose(highs, 0.3, atol=0.01)
    np.testing.assert_allclose(lows, -0.3, atol=0.01)

