"""Synthetic breath, cough and vowel recordings with known ground truth (tests, benchmarks, demos).

- Breathing: band-limited noise (100-1000 Hz) with inspiratory and quieter, longer expiratory
  envelopes, end-expiratory pauses, heart sounds (S1/S2 bursts below 150 Hz) and room noise.
- Coughs: explosive broadband burst (fast attack), decaying intermediate phase, voiced tail.
  ``recorded_like=True`` adds a room (exponential reverberation), mains hum, a microphone
  low-cut and background noise.
- Vowel: glottal pulse train with controlled period (jitter) and amplitude (shimmer)
  perturbation through formant resonators (F1-F3 of /a/, Peterson & Barney 1952).
"""

from __future__ import annotations

import numpy as np


def _bandpass_noise(rng, n, rate_hz, low, high):
    from scipy.signal import butter, sosfilt

    sos = butter(4, [low, min(high, 0.45 * rate_hz)], btype="bandpass", fs=rate_hz, output="sos")
    return sosfilt(sos, rng.standard_normal(n + 2000))[2000:]


def synth_breathing(duration_s: float = 20.0, rate_hz: int = 4000, rate_bpm: float = 18.0,
                    ie_ratio: float = 0.6, seed: int = 0, heart_bpm: float = 72.0,
                    noise_db: float = -45.0):
    """Breath sounds with known cycles. Returns (samples, cycles [(start, end)], inspirations)."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    envelope = np.zeros(n)
    cycles, inspirations = [], []
    start = 0.3
    while True:
        period = 60.0 / rate_bpm * rng.uniform(0.9, 1.1)
        if start + period > duration_s:
            break
        t_insp = period * ie_ratio / (1.0 + ie_ratio) * 0.9  # leave an end-expiratory pause
        t_exp = (period - t_insp) * 0.75
        i = (t >= start) & (t < start + t_insp)
        envelope[i] = np.sin(np.pi * (t[i] - start) / t_insp) ** 1.5
        e0 = start + t_insp + 0.05
        e = (t >= e0) & (t < e0 + t_exp)
        envelope[e] = 0.35 * np.sin(np.pi * (t[e] - e0) / t_exp)
        cycles.append((round(start, 4), round(start + period, 4)))
        inspirations.append((round(start, 4), round(start + t_insp, 4)))
        start += period
    breath = _bandpass_noise(rng, n, rate_hz, 100.0, 1000.0) * envelope
    heart = np.zeros(n)
    beat = 60.0 / heart_bpm
    for tb in np.arange(0.1, duration_s, beat):
        for offset, amp in ((0.0, 1.0), (0.3, 0.7)):
            i0 = int((tb + offset) * rate_hz)
            m = min(int(0.08 * rate_hz), n - i0)
            if m > 0:
                tt = np.arange(m) / rate_hz
                heart[i0 : i0 + m] += amp * np.sin(2 * np.pi * 50 * tt) * np.hanning(m)
    room = _bandpass_noise(rng, n, rate_hz, 50.0, 0.45 * rate_hz)
    x = breath / (np.std(breath) + 1e-12) * 0.1 + 0.05 * heart
    x += room / np.std(room) * 10 ** (noise_db / 20.0)
    return (x / np.max(np.abs(x)) * 0.8).astype(np.float32), cycles, inspirations


def _cough(rng, rate_hz):
    d_exp, d_mid, d_voiced = rng.uniform(0.03, 0.05), rng.uniform(0.15, 0.3), rng.uniform(0.0, 0.1)
    n = int((d_exp + d_mid + d_voiced) * rate_hz)
    t = np.arange(n) / rate_hz
    env = np.where(t < 0.005, t / 0.005, np.exp(-(t - 0.005) / (0.4 * (d_exp + d_mid))))
    noise = _bandpass_noise(rng, n, rate_hz, 200.0, 6000.0) * env
    tail0 = int((d_exp + d_mid) * rate_hz)
    f0 = rng.uniform(150, 300)
    voiced = np.sign(np.sin(2 * np.pi * f0 * t)) * 0.3 * np.exp(-(t - t[tail0]) / 0.05)
    noise[tail0:] += voiced[tail0:] * env[tail0:].max()
    return noise / np.max(np.abs(noise))


def synth_coughs(n_coughs: int = 5, rate_hz: int = 16000, seed: int = 0,
                 recorded_like: bool = False, gap_s: tuple[float, float] = (0.8, 2.0)):
    """Coughs in background noise. Returns (samples, events [(start, end)])."""
    rng = np.random.default_rng(seed)
    pieces, events, t = [np.zeros(int(0.5 * rate_hz))], [], 0.5
    for _ in range(n_coughs):
        c = _cough(rng, rate_hz) * rng.uniform(0.4, 1.0)
        events.append((round(t, 4), round(t + c.size / rate_hz, 4)))
        gap = np.zeros(int(rng.uniform(*gap_s) * rate_hz))
        pieces += [c, gap]
        t += (c.size + gap.size) / rate_hz
    x = np.concatenate(pieces)
    if recorded_like:
        from scipy.signal import butter, fftconvolve, sosfilt

        ir_n = int(0.3 * rate_hz)
        ir = rng.standard_normal(ir_n) * np.exp(-np.arange(ir_n) / (0.05 * rate_hz)) * 0.3
        ir[0] = 1.0
        x = fftconvolve(x, ir)[: x.size]
        x = sosfilt(butter(2, 120.0, btype="highpass", fs=rate_hz, output="sos"), x)
        tt = np.arange(x.size) / rate_hz
        x += 0.01 * np.sin(2 * np.pi * 50 * tt) + 0.003 * rng.standard_normal(x.size)
    else:
        x += 0.002 * rng.standard_normal(x.size)
    return (x / np.max(np.abs(x)) * 0.8).astype(np.float32), events


def synth_vowel(duration_s: float = 5.0, rate_hz: int = 16000, f0_hz: float = 120.0,
                jitter_sd: float = 0.01, shimmer_sd: float = 0.05, seed: int = 0,
                formants_hz: tuple[float, ...] = (730.0, 1090.0, 2440.0)):
    """Sustained /a/ with relative period SD ``jitter_sd`` and amplitude SD ``shimmer_sd``."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    flow = np.zeros(n + 1)
    t = 0.01
    open_s = 0.4 / f0_hz  # open phase: 40 % of the period
    while t < duration_s - 0.02:
        amp = 1.0 + shimmer_sd * rng.standard_normal()
        i0 = int(np.ceil(t * rate_hz))
        idx = np.arange(i0, min(int((t + open_s) * rate_hz) + 1, n + 1))
        # glottal flow pulse evaluated at the exact (sub-sample) instant, no quantisation jitter
        flow[idx] += amp * np.sin(np.pi * (idx / rate_hz - t) / open_s) ** 2
        t += (1.0 + jitter_sd * rng.standard_normal()) / f0_hz
    source = -np.diff(flow)  # radiated: derivative of the flow
    y = source
    for f, bw in zip(formants_hz, (90.0, 110.0, 170.0), strict=False):
        r = np.exp(-np.pi * bw / rate_hz)
        a = [1.0, -2 * r * np.cos(2 * np.pi * f / rate_hz), r * r]
        y = lfilter([1.0 - r], a, y)
    y = y / np.max(np.abs(y)) * 0.7
    return (y + 1e-4 * rng.standard_normal(n)).astype(np.float32)
