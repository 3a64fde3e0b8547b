"""What a stethoscope hears besides the lung sounds, for the synthetic chest recordings.

Step 4 of :mod:`stethoscan.training.respiratory_synthesis`: chest-wall low-pass, heart sounds,
room noise (pink noise, mains hum, background speech), clothing rumble, contact artifacts and
the stethoscope's response. torch-free.
"""

from __future__ import annotations

import math

import numpy as np

from stethoscan.training.respiratory_signal_pieces import (
    add_at,
    butter_gain,
    raised_cosine_taper,
    rms,
    shaped_noise,
)


def _heart_sound(rng: np.random.Generator, rate_hz: int, f_low: float, f_high: float,
                 duration_s: float) -> np.ndarray:  # fmt: skip
    """Two or three valve components: damped oscillations with a sharp onset, 10-30 ms apart."""
    n = int(duration_s * rate_hz)
    tt = np.arange(n) / rate_hz
    sound = np.zeros(n)
    for k in range(int(rng.integers(2, 4))):
        delay = int(k * rng.uniform(0.01, 0.03) * rate_hz)
        f = rng.uniform(f_low, f_high)
        decay = rng.uniform(0.015, 0.04)
        part = np.sin(2 * np.pi * f * tt) * np.exp(-tt / decay) * rng.uniform(0.4, 1.0)
        sound[delay:] += part[: n - delay]
    return sound


def heart_sounds(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """S1/S2 at 50-140 beats/min (adults and children): S1 of 30-150 Hz components over ~120 ms,
    S2 of 50-250 Hz components over ~90 ms, each with a sharp onset; unit peak."""
    out = np.zeros(n)
    rr = 60.0 / rng.uniform(50.0, 140.0)
    t = rng.uniform(0.0, rr)
    while t < n / rate_hz:
        systole = 0.36 * math.sqrt(rr) * rng.uniform(0.95, 1.05)
        add_at(out, _heart_sound(rng, rate_hz, 30.0, 150.0, 0.12), int(t * rate_hz))
        s2 = _heart_sound(rng, rate_hz, 50.0, 250.0, 0.09) * rng.uniform(0.5, 1.0)
        add_at(out, s2, int((t + systole) * rate_hz))
        t += rr * rng.uniform(0.97, 1.03)
    return out / max(np.max(np.abs(out)), 1e-12)


def background_speech(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """Voices in the room: glottal pulse trains through two formants, in syllables; unit RMS."""
    from scipy.signal import lfilter

    out = np.zeros(n)
    t = rng.uniform(0.0, 2.0)
    while t < n / rate_hz:
        burst = rng.uniform(0.5, 3.0)
        f0 = rng.uniform(90.0, 250.0)
        tt = np.arange(int(burst * rate_hz)) / rate_hz
        pitch = f0 * (1.0 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * tt + rng.uniform(0, 6)))
        phase = np.cumsum(pitch) / rate_hz
        pulses = np.diff(np.floor(phase), prepend=0.0)
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.0, 5.0) * tt), 0, None) ** 0.5
        voiced = pulses * syllables
        for formant in (rng.uniform(300.0, 800.0), rng.uniform(900.0, 2200.0)):
            r = math.exp(-math.pi * 80.0 / rate_hz)
            w = 2 * math.pi * formant / rate_hz
            voiced = voiced + lfilter([1.0], [1.0, -2 * r * math.cos(w), r * r], voiced)
        add_at(out, voiced, int(t * rate_hz))
        t += burst + rng.uniform(0.3, 4.0)
    return out / max(rms(out), 1e-12)


def rumble_bursts(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """Clothing/friction rumble: 1-3 bursts of low-passed noise (0.2-1.2 s); unit RMS where active."""
    out = np.zeros(n)
    corner = rng.uniform(100.0, 300.0)
    for _ in range(int(rng.integers(1, 4))):
        length = int(rng.uniform(0.2, 1.2) * rate_hz)
        noise = shaped_noise(rng, length, rate_hz, lambda f: butter_gain(f, corner, 2, False))
        add_at(out, noise * raised_cosine_taper(length, length // 4), int(rng.uniform(0, n)))
    return out


def contact_artifacts(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """Stethoscope contact and friction artifacts at random times (not tied to the breath):
    broadband clicks (a 1-4 ms decaying noise burst) and friction bursts (10-80 ms of band-limited
    noise); peaks spread over -6..+20 dB (unit = the breath sound's RMS)."""
    out = np.zeros(n)
    count = rng.poisson(rng.uniform(0.1, 1.5) * n / rate_hz)
    for _ in range(int(count)):
        if rng.random() < 0.6:
            length = max(int(rng.uniform(1e-3, 4e-3) * rate_hz), 2)
            piece = rng.standard_normal(length) * np.exp(-np.arange(length) / (0.3 * length))
        else:
            length = max(int(rng.uniform(0.01, 0.08) * rate_hz), 8)
            corner = rng.uniform(300.0, 2000.0)
            piece = shaped_noise(rng, length, rate_hz, lambda f, c=corner: butter_gain(f, c, 2, False))
            piece *= raised_cosine_taper(length, length // 3)
        piece /= max(np.max(np.abs(piece)), 1e-12)
        add_at(out, piece * 10 ** (rng.uniform(-6.0, 20.0) / 20.0), int(rng.uniform(0, n)))
    return out


def room_noise(rng: np.random.Generator, n: int, rate_hz: int, settings: dict) -> np.ndarray:
    """Pink noise, optional mains hum and background speech (relative levels in dB)."""
    pink = shaped_noise(rng, n, rate_hz, lambda f: 1.0 / np.sqrt(np.maximum(f, 20.0)))
    out = pink * 10 ** (rng.uniform(-30.0, -12.0) / 20.0)
    if rng.random() < 0.25:
        mains = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(n) / rate_hz
        hum = sum(np.sin(2 * np.pi * mains * k * t) / k for k in (1, 2, 3))
        out += hum * 10 ** (rng.uniform(-32.0, -14.0) / 20.0)
        settings["mains_hum_hz"] = mains
    if rng.random() < 0.2:
        level_db = rng.uniform(-12.0, 6.0)
        out += background_speech(rng, n, rate_hz) * 10 ** (level_db / 20.0)
        settings["background_speech_db"] = round(level_db, 1)
    return out


STETHOSCOPES = ("bell", "diaphragm", "electronic_extended", "microphone")


def stethoscope_response(rng: np.random.Generator, x: np.ndarray, rate_hz: int, kind: str):
    """Causal band-pass of the chest piece (and a tubing resonance for acoustic ones)."""
    from scipy.signal import butter, iirpeak, lfilter, sosfilt

    nyquist = 0.5 * rate_hz
    bands = {
        "bell": (rng.uniform(20.0, 40.0), rng.uniform(300.0, 700.0)),
        "diaphragm": (rng.uniform(80.0, 200.0), rng.uniform(700.0, 1500.0)),
        "electronic_extended": (rng.uniform(20.0, 50.0), rng.uniform(1500.0, 2000.0)),
        "microphone": (rng.uniform(40.0, 80.0), min(3000.0, 0.9 * nyquist)),
    }
    low, high = bands[kind]
    y = sosfilt(butter(2, [low, high], btype="bandpass", fs=rate_hz, output="sos"), x)
    if kind in ("bell", "diaphragm"):
        b, a = iirpeak(rng.uniform(100.0, 300.0), rng.uniform(2.0, 6.0), fs=rate_hz)
        y = y + rng.uniform(0.5, 2.0) * lfilter(b, a, y)
    return y


def chest_wall_lowpass(rng: np.random.Generator, x: np.ndarray, rate_hz: int, location: str):
    from scipy.signal import butter, sosfilt

    corner = rng.uniform(1200.0, 1800.0) if location == "trachea" else rng.uniform(250.0, 800.0)
    return sosfilt(butter(1, corner, btype="lowpass", fs=rate_hz, output="sos"), x)
