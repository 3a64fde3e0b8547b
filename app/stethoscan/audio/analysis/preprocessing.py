"""Preprocessing: resampling, zero-phase band-pass and spectral-gating noise reduction.

Every step returns the signal before and after it, so the review view can play both.

Spectral gating (as in the ``noisereduce`` package, Sainburg et al. 2020, re-implemented with
numpy): a per-frequency noise threshold is estimated from the quietest frames (the 10 % of
frames with the least energy), bins below ``mean + n_std * std`` of that noise are attenuated,
and the mask is smoothed over time and frequency to avoid musical noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stethoscan.core.errors import AudioError

# Typical analysis bands (Hz). Lung sounds: most energy 100-1000 Hz, wheezes up to ~2 kHz
# (Pasterkamp et al. 1997, Am J Respir Crit Care Med 156: 974-987; Bohadana et al. 2014 NEJM).
BANDS_HZ = {"breath": (80.0, 2000.0), "cough": (80.0, 4000.0), "voice": (60.0, 5000.0)}
TARGET_RATE_HZ = {"breath": 4000, "cough": 16000, "voice": 16000}


@dataclass
class PreprocessStep:
    """One step: its name, parameters, and the signal before and after (float32)."""

    name: str
    params: dict
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    rate_before_hz: int = 0
    rate_after_hz: int = 0


@dataclass
class Preprocessed:
    """The final signal and the steps that made it (for listening before/after)."""

    samples: np.ndarray
    rate_hz: int
    steps: list[PreprocessStep]

    def summary(self) -> list[dict]:
        return [
            {"step": s.name, **s.params, "rate_before_hz": s.rate_before_hz,
             "rate_after_hz": s.rate_after_hz}
            for s in self.steps
        ]


def resample(samples: np.ndarray, rate_hz: int, target_hz: int) -> np.ndarray:
    """Polyphase resampling (scipy ``resample_poly``, Kaiser window) to ``target_hz``."""
    from scipy.signal import resample_poly

    if rate_hz == target_hz:
        return np.asarray(samples, dtype=np.float32)
    g = math.gcd(int(rate_hz), int(target_hz))
    return resample_poly(samples, target_hz // g, rate_hz // g).astype(np.float32)


def band_pass(samples: np.ndarray, rate_hz: int, low_hz: float, high_hz: float,
              order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass (second-order sections, forward and backward)."""
    from scipy.signal import butter, sosfiltfilt

    nyquist = 0.5 * rate_hz
    high_hz = min(high_hz, 0.95 * nyquist)
    if not 0.0 < low_hz < high_hz:
        raise AudioError(
            f"The band {low_hz:.0f}-{high_hz:.0f} Hz does not fit a recording sampled at "
            f"{rate_hz} Hz: choose a lower band or record at a higher rate."
        )
    sos = butter(order, [low_hz, high_hz], btype="bandpass", fs=rate_hz, output="sos")
    if samples.size <= 3 * (2 * sos.shape[0] + 1):
        return np.asarray(samples, dtype=np.float32)
    return sosfiltfilt(sos, samples).astype(np.float32)


def spectral_gate(samples: np.ndarray, rate_hz: int, n_std: float = 1.5,
                  reduction_db: float = 18.0, n_fft: int | None = None) -> np.ndarray:
    """Stationary spectral-gating noise reduction (noise estimated from the quietest frames)."""
    from scipy.ndimage import uniform_filter
    from scipy.signal import istft, stft

    x = np.asarray(samples, dtype=np.float64)
    n_fft = n_fft or int(2 ** round(math.log2(max(rate_hz * 0.032, 64))))
    if x.size < n_fft:
        return x.astype(np.float32)
    _, _, spec = stft(x, fs=rate_hz, nperseg=n_fft, noverlap=3 * n_fft // 4)
    mag_db = 20.0 * np.log10(np.abs(spec) + 1e-10)
    energy = mag_db.mean(axis=0)
    quiet = energy <= np.percentile(energy, 10)
    noise = mag_db[:, quiet]
    threshold = noise.mean(axis=1) + n_std * noise.std(axis=1)
    mask = (mag_db > threshold[:, None]).astype(float)
    mask = uniform_filter(mask, size=(3, 5), mode="nearest")
    gain = 10.0 ** (-reduction_db * (1.0 - mask) / 20.0)
    _, y = istft(spec * gain, fs=rate_hz, nperseg=n_fft, noverlap=3 * n_fft // 4)
    return y[: x.size].astype(np.float32)


def preprocess(samples: np.ndarray, rate_hz: int, task_kind: str, *, target_hz: int | None = None,
               band_hz: tuple[float, float] | None = None, denoise: bool = True) -> Preprocessed:
    """Resample, band-pass and denoise a mono recording for ``task_kind`` (breath/voice/cough)."""
    if task_kind not in BANDS_HZ:
        raise AudioError(f"Unknown recording task '{task_kind}': use breath, voice or cough.")
    x = np.asarray(samples, dtype=np.float32)
    steps: list[PreprocessStep] = []
    target = int(target_hz or TARGET_RATE_HZ[task_kind])
    target = min(target, int(rate_hz))
    y = resample(x, int(rate_hz), target)
    steps.append(PreprocessStep("resample", {"target_hz": target}, x, y, int(rate_hz), target))
    low, high = band_hz or BANDS_HZ[task_kind]
    z = band_pass(y, target, low, high)
    steps.append(PreprocessStep("band_pass", {"low_hz": low, "high_hz": min(high, 0.95 * target / 2)},
                                y, z, target, target))
    if denoise:
        w = spectral_gate(z, target)
        steps.append(PreprocessStep("spectral_gate", {"n_std": 1.5, "reduction_db": 18.0},
                                    z, w, target, target))
        z = w
    return Preprocessed(z, target, steps)
