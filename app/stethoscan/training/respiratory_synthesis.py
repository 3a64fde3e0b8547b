"""Synthetic chest recordings with known adventitious sounds, from their acoustic definitions.

Each recording is a run of breathing cycles labelled like the ICBHI 2017 database (normal,
crackle, wheeze, both). Every event is returned with its time-frequency box, so saliency maps
can be checked against where the evidence really is. torch-free; seeded and reproducible.

How a recording is made (the model card quotes this):

1. Breathing: rate 10-40 /min (adults and children), I:E 1:1.2-1:2.5, a short end-expiratory pause; airflow is a sine
   half-wave in inspiration and a fast-rise, exponential-decay wave in expiration. Breath sound
   is Gaussian noise shaped like vesicular sound at the chest wall (high-pass 60-120 Hz, roll-off
   of 12-24 dB/octave above 150-400 Hz) or, for 15% of recordings, like tracheal sound (flat
   100-1000 Hz with resonances); amplitude follows flow^(1-1.8), with more high-frequency
   content at high flow; expiration at the chest wall is 0.25-0.7 x as loud as inspiration
   (Pasterkamp et al. 1997, Am J Respir Crit Care Med 156: 974; Bohadana et al. 2014, NEJM
   370: 744).
2. Wheezes (CORSA, Sovijarvi et al. 2000, Eur Respir Rev 10: 591): continuous, musical; a
   fundamental of 100-1000 Hz (log-uniform) with 0-3 harmonics, a slow glide of -25..+15% and a
   slight vibrato, 100 ms to 1.5 s long (log-uniform), 70% in expiration; 25% polyphonic (extra
   non-harmonic tones). Level -12..+8 dB relative to the breath sound of that phase.
3. Crackles: explosive transients shorter than 20 ms, the standard waveform with a sharp initial
   deflection followed by slower, damped oscillations, parameterised by the initial deflection
   width (IDW) and the two-cycle duration (2CD): fine crackles IDW 0.4-0.9 ms, 2CD 3-8 ms,
   3-12 per cycle in late inspiration; coarse crackles IDW 1.0-2.2 ms, 2CD 10-18 ms, 2-8 per
   cycle in early inspiration and expiration. Peak 6-22 dB above the breath sound's RMS.
4. Chest-wall low-pass (250-800 Hz corner) on the lung sounds; heart sounds (S1 and S2 as 2-3
   sharply starting damped oscillations of 30-150 Hz and 50-250 Hz, at 50-140 beats/min); room noise (pink noise, mains hum, background
   speech), clothing/friction rumble bursts; stethoscope contact and friction artifacts
   (broadband clicks of 1-4 ms and noise bursts of 10-80 ms at random times, 0.1-1.5 per second,
   in 70% of recordings, whatever the label); the stethoscope's response (bell, diaphragm,
   extended-range electronic or microphone band-pass with a tubing resonance); sensor noise;
   a random gain and 16-bit quantisation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

LABELS = ("normal", "crackle", "wheeze", "both")
LABEL_DESCRIPTIONS = (
    "no adventitious sound in this breathing cycle",
    "crackles: short explosive sounds (fluid or collapsed airways opening), fine or coarse",
    "wheezes: continuous musical sounds (narrowed airways), often in expiration",
    "both crackles and wheezes in this breathing cycle",
)
DEFAULT_LABEL_PROBABILITIES = (0.4, 0.2, 0.2, 0.2)
SYNTHESIS_RATE_HZ = 8000
MAX_EVENT_HZ = 2000.0  # boxes are clipped to the model's band


@dataclass
class SoundEvent:
    """One adventitious sound with its time-frequency box (s, Hz)."""

    kind: str  # "wheeze" | "fine_crackle" | "coarse_crackle"
    start_s: float
    end_s: float
    low_hz: float
    high_hz: float


@dataclass
class SyntheticCycle:
    """One breathing cycle (inspiration onset to the next inspiration onset)."""

    start_s: float
    end_s: float
    label: str
    inspiration_end_s: float
    events: list[SoundEvent] = field(default_factory=list)

    @property
    def crackles(self) -> bool:
        return self.label in ("crackle", "both")

    @property
    def wheezes(self) -> bool:
        return self.label in ("wheeze", "both")


@dataclass
class SyntheticRecording:
    samples: np.ndarray  # float32 mono in [-1, 1]
    rate_hz: int
    cycles: list[SyntheticCycle]
    settings: dict = field(default_factory=dict)  # what was drawn (location, stethoscope, ...)

    @property
    def duration_s(self) -> float:
        return self.samples.size / float(self.rate_hz)


# --- small signal pieces ----------------------------------------------------------------------
def _loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


def shaped_noise(rng: np.random.Generator, n: int, rate_hz: int, gain_of_hz) -> np.ndarray:
    """Gaussian noise whose amplitude spectrum is ``gain_of_hz(frequencies)``, unit RMS."""
    from scipy.fft import irfft, next_fast_len, rfft, rfftfreq

    size = next_fast_len(n, real=True)  # a prime length would make the FFT very slow
    spectrum = rfft(rng.standard_normal(size, dtype=np.float32))
    y = irfft(spectrum * gain_of_hz(rfftfreq(size, 1.0 / rate_hz)), size)[:n]
    return y / max(_rms(y), 1e-12)


def _butter_gain(freqs: np.ndarray, corner_hz: float, order: float, high: bool) -> np.ndarray:
    ratio = np.maximum(freqs, 1e-3) / corner_hz
    return 1.0 / np.sqrt(1.0 + (1.0 / ratio if high else ratio) ** (2 * order))


def _raised_cosine_taper(n: int, ramp: int) -> np.ndarray:
    env = np.ones(n)
    ramp = max(1, min(ramp, n // 2))
    edge = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, ramp))
    env[:ramp] = edge
    env[n - ramp :] = edge[::-1]
    return env


def _add(signal: np.ndarray, piece: np.ndarray, start: int) -> None:
    start = max(start, 0)
    stop = min(start + piece.size, signal.size)
    if stop > start:
        signal[start:stop] += piece[: stop - start]


# --- breathing ----------------------------------------------------------------------------------
def breath_spectrum(rng: np.random.Generator, location: str):
    """Amplitude spectrum (function of Hz) of breath sound at the chest wall or the trachea."""
    high_pass = rng.uniform(60.0, 120.0)
    if location == "trachea":
        corner = rng.uniform(700.0, 1300.0)
        peaks = [(rng.uniform(150.0, 1100.0), rng.uniform(60.0, 200.0), rng.uniform(1.5, 3.0))
                 for _ in range(2)]  # fmt: skip

        def gain(f):
            g = _butter_gain(f, high_pass, 2, True) * _butter_gain(f, corner, 4, False)
            for centre, width, height in peaks:
                g = g * (1.0 + (height - 1.0) * np.exp(-0.5 * ((f - centre) / width) ** 2))
            return g

        return gain
    corner = rng.uniform(150.0, 400.0)
    order = rng.uniform(1.0, 2.0)  # 12-24 dB/octave above the corner... with the high-pass below

    def gain(f):
        return _butter_gain(f, high_pass, 2, True) * _butter_gain(f, corner, order, False)

    return gain


def _flow_profiles(rng, t_insp: float, t_exp: float, rate_hz: int):
    """Normalised airflow (0..1) over inspiration and expiration."""
    ti = np.arange(int(t_insp * rate_hz)) / rate_hz
    te = np.arange(int(t_exp * rate_hz)) / rate_hz
    insp = np.sin(np.pi * ti / t_insp) ** rng.uniform(0.6, 1.2)
    peak = rng.uniform(0.12, 0.3) * t_exp  # passive expiration: fast rise, exponential decay
    exp_ = (te / peak) * np.exp(1.0 - te / peak)
    exp_ *= _raised_cosine_taper(exp_.size, int(0.05 * rate_hz))
    return insp, exp_


@dataclass
class _BreathPlan:
    starts: list[int]
    insp_ends: list[int]
    ends: list[int]
    flow: np.ndarray
    envelope: np.ndarray  # breath-sound amplitude


def plan_breathing(rng: np.random.Generator, n_cycles: int, rate_hz: int, location: str,
                   lead_in_s: float, tail_s: float) -> _BreathPlan:  # fmt: skip
    """Cycle boundaries, flow and breath-sound amplitude envelope of a whole recording."""
    rate_bpm = rng.uniform(10.0, 40.0)  # adults 10-30, children up to 40
    ie = rng.uniform(1.2, 2.5)
    gamma = rng.uniform(1.0, 1.8)
    exp_gain = rng.uniform(0.7, 1.2) if location == "trachea" else rng.uniform(0.25, 0.7)
    pieces_flow, pieces_env = [np.zeros(int(lead_in_s * rate_hz))], [np.zeros(int(lead_in_s * rate_hz))]
    starts, insp_ends, ends = [], [], []
    cursor = pieces_flow[0].size
    for _ in range(n_cycles):
        period = 60.0 / rate_bpm * rng.uniform(0.88, 1.12)
        pause = period * rng.uniform(0.0, 0.15)
        t_insp = (period - pause) / (1.0 + ie * rng.uniform(0.9, 1.1))
        t_exp = period - pause - t_insp
        insp, exp_ = _flow_profiles(rng, t_insp, t_exp, rate_hz)
        level = rng.uniform(0.8, 1.25)
        flow = np.concatenate([insp, exp_, np.zeros(int(pause * rate_hz))])
        env = np.concatenate([level * insp**gamma, level * exp_gain * exp_**gamma,
                              np.zeros(int(pause * rate_hz))])  # fmt: skip
        starts.append(cursor)
        insp_ends.append(cursor + insp.size)
        cursor += flow.size
        ends.append(cursor)
        pieces_flow.append(flow)
        pieces_env.append(env)
    tail = np.zeros(int(tail_s * rate_hz))
    flow = np.concatenate([*pieces_flow, tail])
    envelope = np.concatenate([*pieces_env, tail])
    return _BreathPlan(starts, insp_ends, ends, flow, envelope)


def breath_sound(rng: np.random.Generator, plan: _BreathPlan, rate_hz: int, location: str):
    """Noise shaped like breath sound, modulated by the plan's envelope (more highs at high flow)."""
    spectrum = breath_spectrum(rng, location)
    n = plan.envelope.size
    low = shaped_noise(rng, n, rate_hz, spectrum)
    high = shaped_noise(rng, n, rate_hz, lambda f: spectrum(f) * np.sqrt(np.maximum(f, 1) / 200.0))
    floor = 0.03 * rng.uniform(0.5, 2.0)  # faint sound even at zero flow
    return (plan.envelope + floor) * low + 0.5 * plan.envelope * plan.flow * high


# --- adventitious sounds ----------------------------------------------------------------------
def wheeze_waveform(rng: np.random.Generator, duration_s: float, rate_hz: int):
    """A wheeze: tones with harmonics, slow glide and vibrato. Returns (waveform, low Hz, high Hz)."""
    n = max(int(duration_s * rate_hz), 8)
    t = np.arange(n) / rate_hz
    f0 = _loguniform(rng, 100.0, 1000.0)
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
    wave *= _raised_cosine_taper(n, int(rng.uniform(0.015, 0.04) * rate_hz))
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
        duration = min(_loguniform(rng, 0.1, 1.5), 0.9 * phase_s)
        start = a + int(rng.uniform(0.0, phase_s - duration) * rate_hz)
        wave, low, high = wheeze_waveform(rng, duration, rate_hz)
        flow = plan.flow[start : start + wave.size]
        wave = wave[: flow.size] * (0.6 + 0.4 * flow / max(flow.max(), 1e-6))
        level = breath_rms * 10 ** (rng.uniform(-12.0, 8.0) / 20.0)
        _add(signal, wave * level / max(_rms(wave), 1e-12), start)
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
        _add(signal, peak * wave, int(when))
        t0 = when / rate_hz
        events.append(SoundEvent(kind, t0, t0 + duration, low, high))
    return events


# --- the rest of what a stethoscope hears -----------------------------------------------------
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
        _add(out, _heart_sound(rng, rate_hz, 30.0, 150.0, 0.12), int(t * rate_hz))
        s2 = _heart_sound(rng, rate_hz, 50.0, 250.0, 0.09) * rng.uniform(0.5, 1.0)
        _add(out, s2, int((t + systole) * rate_hz))
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
        _add(out, voiced, int(t * rate_hz))
        t += burst + rng.uniform(0.3, 4.0)
    return out / max(_rms(out), 1e-12)


def rumble_bursts(rng: np.random.Generator, n: int, rate_hz: int) -> np.ndarray:
    """Clothing/friction rumble: 1-3 bursts of low-passed noise (0.2-1.2 s); unit RMS where active."""
    out = np.zeros(n)
    corner = rng.uniform(100.0, 300.0)
    for _ in range(int(rng.integers(1, 4))):
        length = int(rng.uniform(0.2, 1.2) * rate_hz)
        noise = shaped_noise(rng, length, rate_hz, lambda f: _butter_gain(f, corner, 2, False))
        _add(out, noise * _raised_cosine_taper(length, length // 4), int(rng.uniform(0, n)))
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
            piece = shaped_noise(rng, length, rate_hz, lambda f, c=corner: _butter_gain(f, c, 2, False))
            piece *= _raised_cosine_taper(length, length // 3)
        piece /= max(np.max(np.abs(piece)), 1e-12)
        _add(out, piece * 10 ** (rng.uniform(-6.0, 20.0) / 20.0), int(rng.uniform(0, n)))
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


# --- a whole recording --------------------------------------------------------------------------
def draw_labels(rng: np.random.Generator, n: int,
                probabilities: tuple[float, ...] = DEFAULT_LABEL_PROBABILITIES) -> list[str]:  # fmt: skip
    p = np.asarray(probabilities, dtype=float)
    return [LABELS[i] for i in rng.choice(len(LABELS), size=n, p=p / p.sum())]


def synthesize_recording(rng: np.random.Generator, labels: list[str],
                         rate_hz: int = SYNTHESIS_RATE_HZ) -> SyntheticRecording:  # fmt: skip
    """One recording whose breathing cycles carry ``labels`` (in order)."""
    location = "trachea" if rng.random() < 0.15 else "chest"
    stethoscope = str(rng.choice(STETHOSCOPES, p=[0.2, 0.35, 0.3, 0.15]))
    crackle_kind = "fine_crackle" if rng.random() < 0.5 else "coarse_crackle"
    settings: dict = {"location": location, "stethoscope": stethoscope, "crackle_kind": crackle_kind}
    plan = plan_breathing(rng, len(labels), rate_hz, location,
                          lead_in_s=rng.uniform(0.0, 1.0), tail_s=rng.uniform(0.2, 1.0))  # fmt: skip
    n = plan.envelope.size
    lung = breath_sound(rng, plan, rate_hz, location)
    cycles = []
    for index, label in enumerate(labels):
        a, b = plan.starts[index], plan.ends[index]
        breath_rms = _rms(lung[a:b])
        events: list[SoundEvent] = []
        if label in ("wheeze", "both"):
            events += add_wheezes(rng, lung, plan, index, rate_hz, breath_rms)
        if label in ("crackle", "both"):
            kind = crackle_kind if rng.random() < 0.85 else ({"fine_crackle": "coarse_crackle",
                                                              "coarse_crackle": "fine_crackle"}[crackle_kind])  # fmt: skip
            events += add_crackles(rng, lung, plan, index, rate_hz, breath_rms, kind)
        cycles.append(SyntheticCycle(a / rate_hz, b / rate_hz, label,
                                     plan.insp_ends[index] / rate_hz, events))  # fmt: skip
    body = chest_wall_lowpass(rng, lung, rate_hz, location)
    reference = _rms(body[plan.starts[0] : plan.ends[-1]])
    heart_db = rng.uniform(-6.0, 20.0) if location == "chest" else rng.uniform(-20.0, 0.0)
    body += heart_sounds(rng, n, rate_hz) * reference * 10 ** (heart_db / 20.0)
    body += room_noise(rng, n, rate_hz, settings) * reference
    if rng.random() < 0.5:
        body += rumble_bursts(rng, n, rate_hz) * reference * 10 ** (rng.uniform(-10.0, 6.0) / 20.0)
    if rng.random() < 0.7:
        body += contact_artifacts(rng, n, rate_hz) * reference
    heard = stethoscope_response(rng, body, rate_hz, stethoscope)
    heard += rng.standard_normal(n) * _rms(heard) * 10 ** (rng.uniform(-45.0, -25.0) / 20.0)
    peak = float(np.max(np.abs(heard))) or 1.0
    samples = heard * (rng.uniform(0.05, 0.9) / peak)
    samples = np.round(samples * 32767.0) / 32767.0  # 16-bit quantisation
    settings["heart_db"] = round(heart_db, 1)
    return SyntheticRecording(samples.astype(np.float32), rate_hz, cycles, settings)


def synthesize_corpus(n_cycles: int, seed: int, rate_hz: int = SYNTHESIS_RATE_HZ,
                      probabilities: tuple[float, ...] = DEFAULT_LABEL_PROBABILITIES,
                      ) -> Iterator[SyntheticRecording]:  # fmt: skip
    """Recordings of 3-8 cycles each until ``n_cycles`` cycles in total (reproducible by seed)."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < n_cycles:
        count = min(int(rng.integers(3, 9)), n_cycles - made)
        yield synthesize_recording(rng, draw_labels(rng, count, probabilities), rate_hz)
        made += count
