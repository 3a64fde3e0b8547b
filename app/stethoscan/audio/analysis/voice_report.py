"""The voice report: F0, jitter, shimmer, HNR, CPP, voicing and speaking rate with adult norms.

F0, jitter, shimmer and HNR follow Praat's Voice report (pitch "To Pitch (ac)" 75-600 Hz,
period marks "To PointProcess (periodic, cc)", shortest/longest period 0.0001/0.02 s, period
factor 1.3, amplitude factor 1.6, "To Harmonicity (cc)" 0.01 s, 75 Hz, 0.1, 1.0), checked
against Praat in the tests. Norms (thresholds for pathology in sustained /a/):

- F0: adult men about 85-180 Hz, women 165-255 Hz (Baken & Orlikoff 2000, Clinical Measurement
  of Speech and Voice); the report uses the union 85-255 Hz.
- Jitter local 1.040 %, local absolute 83.2 us, RAP 0.680 %, PPQ5 0.840 % (MDVP thresholds
  Jitt, Jita, RAP, PPQ quoted in the Praat manual "Voice 2. Jitter"; Teixeira et al. 2013,
  Procedia Technology 9: 1112-1122). DDP = 3 x RAP, so 2.04 %.
- Shimmer local 3.810 %, local dB 0.350 dB, APQ11 3.070 % (MDVP Shim, ShdB, APQ; Praat manual
  "Voice 3. Shimmer"). APQ3/APQ5/DDA have no published MDVP threshold: shown without a flag.
- HNR >= 20 dB for a healthy sustained /a/ (Teixeira et al. 2013).
- CPP (Hillenbrand et al. 1994, cepstrum of the dB spectrum, regression baseline): healthy
  sustained vowels lie above about 10 dB with this definition (Heman-Ackah et al. 2003 report
  lower limits near 10-11 dB); implementation-dependent, so the flag is indicative only.
- Speaking rate 3-6 syllables/s in read or conversational adult speech (de Jong & Wempe 2009).

Flags only make sense for the measure's task: perturbation and HNR norms are for sustained
vowels, so in connected speech those rows carry no flag; nor do they in a "sustained" take with
less than MIN_PHONATION_FOR_NORMS_S of voicing (a word or a cut-off vowel: onsets and offsets then
dominate jitter and shimmer, and the norms come from vowels held for seconds).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from stethoscan.audio.analysis.glottal_pulses import periodic_pulses
from stethoscan.audio.analysis.harmonicity import harmonicity_cc
from stethoscan.audio.analysis.perturbation import jitter, shimmer
from stethoscan.audio.analysis.pitch_tracking import PitchTrack, pitch_ac
from stethoscan.audio.analysis.speech_segmentation import segment_speech

SUSTAINED_ONLY = {"jitter", "shimmer", "hnr", "cpp"}
MIN_SPEECH_FOR_RATE_S = 5.0  # speaking-rate norms are for read or spontaneous speech (10-60 s)
MIN_PHONATION_FOR_NORMS_S = 1.0  # sustained-vowel norms are for vowels held 3-6 s (>= 1 s analysed)


@dataclass
class VoiceMeasure:
    """One row of the report. ``flag`` is "low", "high", "" (in range) or None (no norm)."""

    key: str
    label: str
    value: float
    unit: str
    normal_low: float | None = None
    normal_high: float | None = None
    source: str = ""
    flag: str | None = None


@dataclass
class VoiceReport:
    """Rows in display order plus the arrays behind them (for plots)."""

    kind: str  # "sustained" or "speech"
    measures: list[VoiceMeasure] = field(default_factory=list)
    pitch_times_s: list[float] = field(default_factory=list)
    pitch_hz: list[float] = field(default_factory=list)  # NaN where unvoiced
    pulse_times_s: list[float] = field(default_factory=list)
    segments: list[tuple[float, float, str]] = field(default_factory=list)

    def value(self, key: str) -> float:
        for m in self.measures:
            if m.key == key:
                return m.value
        raise KeyError(key)

    def as_dict(self) -> dict:
        return asdict(self)


# key: (label, unit, scale for display, low, high, source)
NORMS: dict[str, tuple[str, str, float, float | None, float | None, str]] = {
    "f0_mean": ("F0 mean", "Hz", 1.0, 85.0, 255.0, "Baken & Orlikoff 2000"),
    "f0_sd": ("F0 SD", "Hz", 1.0, None, None, ""),
    "f0_min": ("F0 min", "Hz", 1.0, None, None, ""),
    "f0_max": ("F0 max", "Hz", 1.0, None, None, ""),
    "jitter_local": ("Jitter (local)", "%", 100.0, None, 1.040, "MDVP Jitt; Praat manual"),
    "jitter_local_absolute": ("Jitter (local, absolute)", "us", 1e6, None, 83.2, "MDVP Jita"),
    "jitter_rap": ("Jitter (RAP)", "%", 100.0, None, 0.680, "MDVP RAP"),
    "jitter_ppq5": ("Jitter (PPQ5)", "%", 100.0, None, 0.840, "MDVP PPQ"),
    "jitter_ddp": ("Jitter (DDP)", "%", 100.0, None, 2.040, "3 x MDVP RAP"),
    "shimmer_local": ("Shimmer (local)", "%", 100.0, None, 3.810, "MDVP Shim; Praat manual"),
    "shimmer_local_db": ("Shimmer (local, dB)", "dB", 1.0, None, 0.350, "MDVP ShdB"),
    "shimmer_apq3": ("Shimmer (APQ3)", "%", 100.0, None, None, "no MDVP threshold"),
    "shimmer_apq5": ("Shimmer (APQ5)", "%", 100.0, None, None, "no MDVP threshold"),
    "shimmer_apq11": ("Shimmer (APQ11)", "%", 100.0, None, 3.070, "MDVP APQ"),
    "shimmer_dda": ("Shimmer (DDA)", "%", 100.0, None, None, "no MDVP threshold"),
    "hnr": ("Harmonics-to-noise ratio", "dB", 1.0, 20.0, None, "Teixeira et al. 2013"),
    "cpp": ("Cepstral peak prominence", "dB", 1.0, 10.0, None, "Heman-Ackah et al. 2003 (approx.)"),
    "voiced_fraction": ("Voiced fraction", "%", 100.0, None, None, ""),
    "speaking_rate": ("Speaking rate", "syll/s", 1.0, 3.0, 6.0, "de Jong & Wempe 2009"),
    "articulation_rate": ("Articulation rate", "syll/s", 1.0, None, None, ""),
    "pause_count": ("Pauses (>= 0.25 s)", "", 1.0, None, None, ""),
    "pause_mean": ("Mean pause", "s", 1.0, None, None, ""),
}


def cepstral_peak_prominence(samples: np.ndarray, rate_hz: float, pitch: PitchTrack,
                             floor_hz: float = 60.0, ceiling_hz: float = 600.0) -> float:
    """Mean CPP (dB) over voiced frames, Hillenbrand et al. (1994) style.

    Per 40 ms Hann frame: the power cepstrum (dB) of the dB power spectrum; the peak in the quefrency
    range 1/ceiling..1/floor s is measured above a straight line fitted to the cepstrum from
    1 ms to the end of that range.
    """
    x = np.asarray(samples, dtype=float)
    n_win = int(round(0.04 * rate_hz))
    times = pitch.times_s[pitch.voiced]
    if times.size == 0 or x.size < n_win:
        return math.nan
    starts = np.clip(np.round(times * rate_hz).astype(int) - n_win // 2, 0, x.size - n_win)
    frames = x[starts[:, None] + np.arange(n_win)] * np.hanning(n_win)
    n_fft = 1 << int(math.ceil(math.log2(2 * n_win)))
    spectrum_db = 10.0 * np.log10(np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2 + 1e-12)
    cepstrum = 20.0 * np.log10(np.abs(np.fft.irfft(spectrum_db, n_fft, axis=1)) + 1e-12)
    quef = np.arange(n_fft) / rate_hz
    lo, hi = int(math.ceil(rate_hz / ceiling_hz)), int(math.floor(rate_hz / floor_hz))
    hi = min(hi, n_fft // 2 - 1)
    base = int(math.ceil(0.001 * rate_hz))
    if hi <= lo:
        return math.nan
    peak_idx = lo + np.argmax(cepstrum[:, lo : hi + 1], axis=1)
    rows = np.arange(frames.shape[0])
    q = quef[base : hi + 1] - quef[base : hi + 1].mean()
    c = cepstrum[:, base : hi + 1]
    slope = (c @ q) / (q @ q)
    line = c.mean(axis=1) + slope * (quef[peak_idx] - quef[base : hi + 1].mean())
    return float(np.mean(cepstrum[rows, peak_idx] - line))


def _measure(key: str, raw: float, kind: str, duration_s: float = math.inf,
             voiced_s: float = math.inf) -> VoiceMeasure:
    label, unit, scale, low, high, source = NORMS[key]
    value = raw * scale if np.isfinite(raw) else math.nan
    flag: str | None = None
    family = key.split("_")[0]
    applicable = kind == "sustained" or family not in SUSTAINED_ONLY
    if applicable and family in SUSTAINED_ONLY and voiced_s < MIN_PHONATION_FOR_NORMS_S:
        low = high = None  # too little phonation to compare with sustained-vowel norms
        source = (f"no norm for jitter, shimmer, HNR or CPP under {MIN_PHONATION_FOR_NORMS_S:g} s of phonation "
                  f"({voiced_s:.2f} s voiced; record a vowel held 3-6 s)")  # fmt: skip
    if family == "speaking" and duration_s < MIN_SPEECH_FOR_RATE_S:
        low = high = None  # a word or two has no speaking rate to compare with the norm
        source = f"no norm under {MIN_SPEECH_FOR_RATE_S:g} s of speech"
    if applicable and np.isfinite(value) and (low is not None or high is not None):
        flag = "low" if low is not None and value < low else "high" if high is not None and value > high else ""
    if not applicable:  # the norms are for sustained vowels: none is shown for speech
        low = high = None
        source = "no norm for connected speech (the norms are for sustained vowels)"
    return VoiceMeasure(key, label, round(value, 6) if np.isfinite(value) else math.nan, unit,
                        low, high, source, flag)


def voice_report(samples: np.ndarray, rate_hz: float, kind: str = "sustained") -> VoiceReport:
    """Compute the report on a mono recording (``kind``: "sustained" vowel or "speech")."""
    x = np.asarray(samples, dtype=float)
    pitch = pitch_ac(x, rate_hz)
    f0 = pitch.f0_hz[pitch.voiced]
    pulses = periodic_pulses(x, rate_hz, pitch)
    jit = jitter(pulses)
    shim = shimmer(x, rate_hz, pulses)
    hnr = harmonicity_cc(x, rate_hz).mean_db()
    cpp = cepstral_peak_prominence(x, rate_hz, pitch)
    speech = segment_speech(x, rate_hz, pitch)
    pauses = speech.pauses_s
    raw = {
        "f0_mean": f0.mean() if f0.size else math.nan,
        "f0_sd": f0.std(ddof=1) if f0.size > 1 else math.nan,
        "f0_min": f0.min() if f0.size else math.nan,
        "f0_max": f0.max() if f0.size else math.nan,
        "jitter_local": jit["local"], "jitter_local_absolute": jit["local_absolute_s"],
        "jitter_rap": jit["rap"], "jitter_ppq5": jit["ppq5"], "jitter_ddp": jit["ddp"],
        "shimmer_local": shim["local"], "shimmer_local_db": shim["local_db"],
        "shimmer_apq3": shim["apq3"], "shimmer_apq5": shim["apq5"],
        "shimmer_apq11": shim["apq11"], "shimmer_dda": shim["dda"],
        "hnr": hnr, "cpp": cpp,
        "voiced_fraction": float(np.mean(pitch.voiced)) if pitch.voiced.size else math.nan,
    }
    if kind == "speech":
        raw.update({
            "speaking_rate": speech.speaking_rate_syl_per_s,
            "articulation_rate": speech.articulation_rate_syl_per_s,
            "pause_count": float(len(pauses)),
            "pause_mean": float(np.mean(pauses)) if pauses else math.nan,
        })
    voiced_s = float(np.count_nonzero(pitch.voiced)) * pitch.time_step_s
    return VoiceReport(
        kind=kind,
        measures=[_measure(k, float(v), kind, x.size / float(rate_hz), voiced_s) for k, v in raw.items()],
        pitch_times_s=pitch.times_s.round(5).tolist(),
        pitch_hz=np.where(pitch.voiced, pitch.f0_hz, np.nan).round(3).tolist(),
        pulse_times_s=pulses.round(6).tolist(),
        segments=speech.segments,
    )
