"""Adventitious lung sounds for the synthetic chest recordings: wheezes and crackles.

Steps 2 and 3 of :mod:`stethoscan.training.respiratory_synthesis` (its docstring gives the
definitions and figures). Every sound comes with its time-frequency box. torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stethoscan.training.respiratory_signal_pieces import (
    add_at,
    loguniform,
    raised_cosine_taper,
    rms,
)

MAX_EVENT_HZ = 2000.0  # boxes are clipped to the model's band


@dataclass
class SoundEvent:
    """One adventitious sound with its time-frequency box (s, Hz)."""

    kind: str  # "wheeze" | "fine_crackle" | "coarse_crackle"
    start_s: float
    end_s: float
    low_hz: float
    high_hz: float


def wheeze_waveform(rng: np.random.Generator, duration_s: float, rate_hz: int):
    """A wheeze: tones with harmonics, slow glide and vibrato. Returns (waveform, low Hz, high Hz)."""
    n = max(int(duration_s * rate_hz), 8)
    t = np.arange(n) / rate_hz
    f0 = loguniform(rng, 100.0, 1000.0)
    glide = rng.uniform(-0.25, 0.15)
    vibrato = 1.0 + rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.uniform(3.0, 8.0) * t)
    track = f0 * (1.0 + glide * t / max(duration_s, 1e-3)) * vibrato
    tones = [(1.0, 1.0)]  # (frequency ratio, amplitude)
    decay = rng.uniform(0.15, 0.6)
    tones += [(k, decay ** (k - 1)) for k in range(2, 2 + int(rng.integers(0, 4)))]
    if rng.random() < 0.25:  # polyphonic: extra tones, not harmonically related
        tones += [(rng.uniform(1.15, 2.3), rng.uniform(0.3, 1.0))
                  for _ in range(int(rng.integers(1, 3)))]  # fmt: skip
    nyquist = 0.45 * rate_hz
    wave = np.zeros(n)
    present = []
    for ratio, amp in tones:
        if track.max() * ratio >= nyquist:
            continue
        phase = 2 * np.pi * np.cumsum(track * ratio) / rate_hz + rng.uniform(0, 2 * np.pi)
        wave += amp * np.sin(phase)
        if amp >= 0.2:
            present.append(ratio)
    wave *= raised_cosine_taper(n, int(rng.uniform(0.015, 0.04) * rate_hz))
    low = float(track.min() * min(present) * 0.85)
    high = float(min(track.max() * max(present) * 1.15, MAX_EVENT_HZ))
    return wave, low, high


def crackle_waveform(rng: np.random.Generator, idw_s: float, two_cd_s: float, rate_hz: int):
    """The standard crackle waveform with given initial deflection width and two-cycle duration.

    Phase grows like ``a * t**b`` so that the first half-cycle ends at IDW and the second full
    cycle at 2CD (a sharp initial deflection, then slower oscillation), under an exponential
    decay; total length at most 20 ms. Returns (waveform, duration s, low Hz, high Hz).
    """
    duration = min(2.0 * two_cd_s, 0.02)
    t = np.arange(max(int(duration * rate_hz), 4)) / rate_hz
    b = math.log(4.0) / math.log(two_cd_s / idw_s)
    a = math.pi / idw_s**b
    wave = np.sin(a * t**b) * np.exp(-t / (0.6 * two_cd_s))
    fade = max(2, t.size // 5)  # the onset stays sharp; only the tail fades out
    wave[-fade:] *= np.linspace(1.0, 0.0, fade)
    wave *= rng.choice([-1.0, 1.0])
    low = max(50.0, 0.5 * 2.0 / two_cd_s)
    high = min(1.5 / (2.0 * idw_s), MAX_EVENT_HZ)
    return wave / max(np.max(np.abs(wave)), 1e-12), duration, low, high


def add_wheezes(rng, signal, plan, index, rate_hz, breath_rms) -> list[SoundEvent]:
    """Add 1-2 wheezes to cycle ``index`` of ``signal``; returns their events."""
    events = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        expiratory = rng.random() < 0.7
        a = plan.insp_ends[index] if expiratory else plan.starts[index]
        b = plan.ends[index] if expiratory else plan.insp_ends[index]
        phase_s = (b - a) / rate_hz
        duration = min(loguniform(rng, 0.1, 1.5), 0.9 * phase_s)
        start = a + int(rng.uniform(0.0, phase_s - duration) * rate_hz)
        wave, low, high = wheeze_waveform(rng, duration, rate_hz)
        flow = plan.flow[start : start + wave.size]
        wave = wave[: flow.size] * (0.6 + 0.4 * flow / max(flow.max(), 1e-6))
        level = breath_rms * 10 ** (rng.uniform(-12.0, 8.0) / 20.0)
        add_at(signal, wave * level / max(rms(wave), 1e-12), start)
        t0 = start / rate_hz
        events.append(SoundEvent("wheeze", t0, t0 + wave.size / rate_hz, low, high))
    return events


def add_crackles(rng, signal, plan, index, rate_hz, breath_rms, kind: str) -> list[SoundEvent]:
    """Add fine (late-inspiratory) or coarse (early inspiratory/expiratory) crackles."""
    a, m, b = plan.starts[index], plan.insp_ends[index], plan.ends[index]
    events = []
    if kind == "fine_crackle":
        count = int(rng.integers(3, 13))
        times = rng.uniform(a + 0.45 * (m - a), m, size=count)
    else:
        count = int(rng.integers(2, 9))
        in_expiration = rng.random(count) < 0.4
        times = np.where(in_expiration, rng.uniform(m, m + 0.4 * (b - m), size=count),
                         rng.uniform(a, a + 0.45 * (m - a), size=count))  # fmt: skip
    for when in np.sort(times).astype(int):
        if kind == "fine_crackle":
            idw, two_cd = rng.uniform(0.4e-3, 0.9e-3), rng.uniform(3e-3, 8e-3)
        else:
            idw, two_cd = rng.uniform(1.0e-3, 2.2e-3), rng.uniform(10e-3, 18e-3)
        wave, duration, low, high = crackle_waveform(rng, idw, two_cd, rate_hz)
        peak = breath_rms * 10 ** (rng.uniform(6.0, 22.0) / 20.0)
        add_at(signal, peak * wave, int(when))
        t0 = when / rate_hz
        events.append(SoundEvent(kind, t0, t0 + duration, low, high))
    return events
