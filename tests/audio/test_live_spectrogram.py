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


def test_review_spectrogram_is_downsampled_by_taking_the_maximum():
    from stethoscan.audio.live_spectrogram import spectrogram_db

    x = (0.1 * np.random.default_rng(2).standard_normal(RATE * 20)).astype(np.float32)
    x[RATE * 7 : RATE * 7 + 480] = 0.9  # a click that must survive the downsampling
    full, freqs, step = spectrogram_db(x, RATE, max_columns=100_000, n_mels=64, frame_s=0.021)
    small, freqs2, step2 = spectrogram_db(x, RATE, max_columns=300, n_mels=64, frame_s=0.021)
    assert step == pytest.approx(0.01) and full.shape == (1998, 64)
    group = int(np.ceil(1998 / 300))
    assert small.shape == (int(np.ceil(1998 / group)), 64) and step2 == pytest.approx(0.01 * group)
    np.testing.assert_allclose(small[:-1], full[: (1998 // group) * group].reshape(-1, group, 64).max(axis=1))
    assert small[:, :8].max() == pytest.approx(full[:, :8].max())
    np.testing.assert_array_equal(freqs, freqs2)


def test_review_linear_spectrogram_and_envelope():
    from stethoscan.audio.live_spectrogram import spectrogram_db, waveform_envelope

    t = np.arange(RATE * 3) / RATE
    x = (0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    image, freqs, _ = spectrogram_db(x, RATE, kind="linear", frame_s=0.021)
    assert image.shape[1] == 513 and freqs[-1] == RATE / 2
    assert abs(freqs[int(np.argmax(image[100]))] - 3000) <= RATE / 1024
    assert image[100].max() == pytest.approx(20 * np.log10(0.5), abs=1.5)
    times, lows, highs = waveform_envelope(x, RATE, max_points=1000)
    assert len(times) <= 1000 and times[0] == 0.0
    np.testing.assert_allclose(highs, 0.5, atol=0.01)
    np.testing.assert_allclose(lows, -0.5, atol=0.01)
