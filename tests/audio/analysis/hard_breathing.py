"""Hard synthetic chest recordings for breathing-cycle tests, with known cycles.

They reproduce, in general terms, what made the segmentation fail on real stethoscope
recordings (ICBHI 2017 sample: a Meditron, a Littmann Classic II SE and two Littmann 3200
recordings), not those recordings themselves:

- irregular breathing: cycle lengths with a coefficient of variation of 10-30 %, and now and
  then a long end-expiratory pause (a cycle 1.5-2.5 times the usual one); breath-to-breath
  loudness varying by up to 6 dB (SD), so quiet breaths follow loud ones;
- expiration from loud to inaudible, inspiration faint (a diffuse noise 10-20 dB above the
  floor);
- loud, intermittent harmonic bursts during expiration (grunting, rhonchi, phonation:
  100-250 Hz fundamental with harmonics up to ~1.5 kHz, 0.1-0.4 s each with gaps between,
  10-30 dB above the inspiratory breath sound), which fill every sub-band of 150-1000 Hz;
- heart sounds at 60-140 beats/min whose S1/S2 carry a sharp broadband onset (energy up to
  300-600 Hz), 0-20 dB above the breath sound in the 150-1000 Hz band.

With ``alternating=True`` (a separate set; the default recordings are unchanged) deep and
shallow breaths alternate (every other breath 4-14 dB quieter), so that loudness alone cannot
tell "loud breath + quiet breath" from "inspiration + quieter expiration", and expiration is
spectrally duller than inspiration: an extra 0-8 dB/octave roll-off above a 150-300 Hz corner
(0 included: sometimes no difference). At the chest wall inspiratory sounds carry relatively
more energy above ~200 Hz than expiratory ones (Pasterkamp et al. 1997, Am J Respir Crit Care
Med 156: 974-987; Gavriely et al. 1995), by amounts that vary widely between subjects.

Breath sound, stethoscope response and room noise come from the training synthesis
(``stethoscan.training.respiratory_synthesis``), used here as building blocks only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stethoscan.training.auscultation_noise_synthesis import room_noise, stethoscope_response
from stethoscan.training.breathing_sound_synthesis import breath_spectrum
from stethoscan.training.respiratory_signal_pieces import shaped_noise

RATE_HZ = 4000


@dataclass
class HardRecording:
    samples: np.ndarray
    rate_hz: int
    cycles: list[tuple[float, float]]  # complete cycles (start s, end s), as an expert marks
    settings: dict

    @property
    def rate_bpm(self) -> float:
        """Count rate: 60 / mean duration of the complete cycles."""
        return 60.0 / float(np.mean([e - s for s, e in self.cycles]))


def _band_rms(x: np.ndarray, rate_hz: int, low_hz: float = 150.0, high_hz: float = 1000.0):
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [low_hz, high_hz], btype="bandpass", fs=rate_hz, output="sos")
    return float(np.sqrt(np.mean(sosfiltfilt(sos, x) ** 2))) + 1e-12


def _cycle_lengths(rng: np.random.Generator, duration_s: float) -> list[float]:
    """Cycle lengths (s) filling ``duration_s``, the first three within 85 % of it."""
    base = 60.0 / rng.uniform(12.0, 36.0)
    cv = rng.uniform(0.10, 0.30)
    while True:
        lengths: list[float] = []
        while sum(lengths) < duration_s + base:
            length = base * float(np.exp(rng.normal(0.0, cv)))
            if rng.random() < 0.12:
                length *= rng.uniform(1.5, 2.5)  # a long end-expiratory pause
            lengths.append(float(np.clip(length, 1.0, 10.0)))
        if sum(lengths[:3]) <= 0.85 * duration_s:  # three whole cycles at least
            return lengths


def _breath_amplitude(rng, starts, lengths, n, rate_hz, exp_gain, alternate_db=0.0):
    """Sample-wise breath-sound amplitudes (inspiration, expiration): two humps, then a pause.

    Every other breath is ``alternate_db`` quieter (deep and shallow breaths alternating).
    """
    amp = np.zeros((2, n))
    usual = float(np.median(lengths))
    spread_db = rng.uniform(0.0, 6.0)  # breath-to-breath loudness (tidal volume) varies
    for i, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        active = min(length, 1.1 * usual) * rng.uniform(0.75, 0.95)  # the rest is a pause
        loudness = 10 ** ((rng.normal(0.0, spread_db) - alternate_db * (i % 2)) / 20.0)
        t_insp = active / (1.0 + rng.uniform(1.2, 2.5))
        t_exp = active - t_insp
        for phase, (t0, dur, gain) in enumerate(((start, t_insp, 1.0),
                                                  (start + t_insp, t_exp, exp_gain))):
            a = int(t0 * rate_hz)
            m = max(min(int(dur * rate_hz), n - a), 0)
            if m:
                hump = np.sin(np.pi * np.arange(m) / m)
                amp[phase, a : a + m] += loudness * gain * rng.uniform(0.7, 1.3) * hump
    return amp


def _duller(rng: np.random.Generator, spectrum):
    """``spectrum`` with an extra 0-8 dB/octave roll-off above a 150-300 Hz corner."""
    corner, db_per_octave = rng.uniform(150.0, 300.0), rng.uniform(0.0, 8.0)

    def gain(f):
        octaves = np.log2(np.maximum(f, corner) / corner)
        return spectrum(f) * 10 ** (-db_per_octave * octaves / 20.0)

    return gain, db_per_octave


def _harmonic_burst(rng: np.random.Generator, length: int, rate_hz: int) -> np.ndarray:
    t = np.arange(length) / rate_hz
    f0 = rng.uniform(100.0, 250.0) * (1.0 + rng.uniform(-0.1, 0.1) * t / max(t[-1], 1e-3))
    phase = 2 * np.pi * np.cumsum(f0) / rate_hz
    wave = sum(np.sin(k * phase) / k**0.7 for k in range(1, 10) if k * f0[0] < 0.45 * rate_hz)
    ramp = max(length // 6, 1)
    taper = np.minimum(1.0, np.minimum(np.arange(length), np.arange(length)[::-1]) / ramp)
    return wave * taper


def _expiratory_bursts(rng, starts, lengths, n, rate_hz) -> np.ndarray:
    """1-4 harmonic bursts (0.1-0.4 s, gaps 0.05-0.3 s) in the expiration of most cycles."""
    out = np.zeros(n)
    for start, length in zip(starts, lengths, strict=True):
        if rng.random() < 0.2:
            continue
        usual = min(length, float(np.median(lengths)))
        t = start + usual * rng.uniform(0.3, 0.4)
        stop = start + usual * 0.85
        for _ in range(int(rng.integers(1, 5))):
            dur = rng.uniform(0.1, 0.4)
            if t + dur > stop:
                break
            a, m = int(t * rate_hz), int(dur * rate_hz)
            if a + m <= n:
                out[a : a + m] += _harmonic_burst(rng, m, rate_hz) * rng.uniform(0.5, 1.0)
            t += dur + rng.uniform(0.05, 0.3)
    return out


def _heart_beats(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """S1/S2: damped 30-150 Hz oscillations plus a sharp 300-600 Hz onset click."""
    out = np.zeros(n)
    rr = 60.0 / rng.uniform(60.0, 140.0)
    t = rng.uniform(0.0, rr)
    length = int(0.12 * rate_hz)
    tt = np.arange(length) / rate_hz
    while t < n / rate_hz:
        for offset, gain in ((0.0, 1.0), (0.36 * math.sqrt(rr), rng.uniform(0.5, 1.0))):
            low = np.sin(2 * np.pi * rng.uniform(30, 150) * tt) * np.exp(-tt / rng.uniform(0.015, 0.04))
            click = np.sin(2 * np.pi * rng.uniform(300, 600) * tt) * np.exp(-tt / rng.uniform(0.004, 0.012))
            a = int((t + offset) * rate_hz)
            m = min(length, n - a)
            if m > 0:
                out[a : a + m] += gain * (low + rng.uniform(0.5, 1.5) * click)[:m]
        t += rr * rng.uniform(0.95, 1.05)
    return out


def hard_recording(rng: np.random.Generator, duration_s: float = 20.0, rate_hz: int = RATE_HZ,
                   alternating: bool = False) -> HardRecording:
    """One recording with irregular cycles, loud heart sounds and (often) expiratory bursts.

    ``alternating``: deep and shallow breaths alternate and expiration is duller (see above).
    """
    n = int(duration_s * rate_hz)
    lengths = _cycle_lengths(rng, duration_s)
    lead = rng.uniform(0.0, min(1.5, duration_s - sum(lengths[:3])))
    starts = list(lead + np.concatenate([[0.0], np.cumsum(lengths)[:-1]]))
    exp_gain = float(rng.choice([rng.uniform(0.0, 0.1), rng.uniform(0.2, 0.5), rng.uniform(0.5, 0.9)]))
    alternate_db = rng.uniform(4.0, 14.0) if alternating else 0.0
    insp, exp_ = _breath_amplitude(rng, starts, lengths, n, rate_hz, exp_gain, alternate_db)
    spectrum = breath_spectrum(rng, "chest")
    floor = rng.uniform(0.02, 0.08)
    settings = {"exp_gain": round(exp_gain, 2)}
    if alternating:
        duller, db_per_octave = _duller(rng, spectrum)
        body = (insp + floor) * shaped_noise(rng, n, rate_hz, spectrum)
        body += exp_ * shaped_noise(rng, n, rate_hz, duller)
        settings.update(alternate_db=round(alternate_db, 1), exp_db_per_octave=round(db_per_octave, 1))
    else:
        body = (insp + exp_ + floor) * shaped_noise(rng, n, rate_hz, spectrum)
    breath_band = _band_rms(body, rate_hz)
    if rng.random() < 0.5:
        bursts = _expiratory_bursts(rng, starts, lengths, n, rate_hz)
        if np.any(bursts):
            level_db = rng.uniform(10.0, 30.0)
            active = np.abs(bursts) > 0
            burst_band = _band_rms(bursts, rate_hz) / math.sqrt(max(active.mean(), 1e-3))
            body += bursts * breath_band / burst_band * 10 ** (level_db / 20.0)
            settings["burst_db"] = round(level_db, 1)
    heart = _heart_beats(rng, n, rate_hz)
    heart_db = rng.uniform(0.0, 20.0)
    body += heart * breath_band / _band_rms(heart, rate_hz) * 10 ** (heart_db / 20.0)
    settings["heart_db"] = round(heart_db, 1)
    body += room_noise(rng, n, rate_hz, settings) * breath_band
    heard = stethoscope_response(rng, body, rate_hz, str(rng.choice(["diaphragm", "electronic_extended"])))
    samples = (heard / max(np.max(np.abs(heard)), 1e-12) * 0.5).astype(np.float32)
    ends = [s + length for s, length in zip(starts, lengths, strict=True)]
    cycles = [(float(s), float(e)) for s, e in zip(starts, ends, strict=True) if e <= duration_s]
    return HardRecording(samples, rate_hz, cycles, settings)


def hard_set(count: int, seed: int, duration_s: float = 20.0,
             alternating: bool = False) -> list[HardRecording]:
    rng = np.random.default_rng(seed)
    return [hard_recording(rng, duration_s, alternating=alternating) for _ in range(count)]
