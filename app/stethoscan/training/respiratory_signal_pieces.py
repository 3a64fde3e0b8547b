"""Small signal pieces for the synthetic chest recordings: shaped noise, filter gains, tapers.

Shared by :mod:`breathing_sound_synthesis`, :mod:`adventitious_sound_synthesis`,
:mod:`auscultation_noise_synthesis` and :mod:`respiratory_synthesis`. torch-free.
"""

from __future__ import annotations

import math

import numpy as np


def loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def shaped_noise(rng: np.random.Generator, n: int, rate_hz: int, gain_of_hz) -> np.ndarray:
    """Gaussian noise whose amplitude spectrum is ``gain_of_hz(frequencies)``, unit RMS."""
    from scipy.fft import irfft, next_fast_len, rfft, rfftfreq

    size = next_fast_len(n, real=True)  # a prime length would make the FFT very slow
    spectrum = rfft(rng.standard_normal(size, dtype=np.float32))
    y = irfft(spectrum * gain_of_hz(rfftfreq(size, 1.0 / rate_hz)), size)[:n]
    return y / max(rms(y), 1e-12)


def butter_gain(freqs: np.ndarray, corner_hz: float, order: float, high: bool) -> np.ndarray:
    ratio = np.maximum(freqs, 1e-3) / corner_hz
    return 1.0 / np.sqrt(1.0 + (1.0 / ratio if high else ratio) ** (2 * order))


def raised_cosine_taper(n: int, ramp: int) -> np.ndarray:
    env = np.ones(n)
    ramp = max(1, min(ramp, n // 2))
    edge = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, ramp))
    env[:ramp] = edge
    env[n - ramp :] = edge[::-1]
    return env


def add_at(signal: np.ndarray, piece: np.ndarray, start: int) -> None:
    """Add ``piece`` into ``signal`` from sample ``start`` on, clipped to the signal."""
    start = max(start, 0)
    stop = min(start + piece.size, signal.size)
    if stop > start:
        signal[start:stop] += piece[: stop - start]
