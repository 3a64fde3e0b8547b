"""Breathing cycles, inspiration and expiration, breathing rate and I/E ratio from chest sounds.

Method: the 200-1000 Hz envelope (breath sounds carry most of their energy from 100 to 1000 Hz,
Pasterkamp et al. 1997; the band starts above most heart-sound energy) is smoothed with a
running median and mean; the quiet end-expiratory pauses are the deep envelope minima at least
1 s apart (at most 60 breaths/min); each cycle runs from the sound onset after one pause to the
onset after the next, and cycles shorter than 1 s or longer than 10 s (6-60/min) are dropped.

Inspiration versus expiration: at the chest wall, inspiratory sounds are louder than expiratory
ones, and expiration is usually longer and quieter (normal vesicular sound: inspiration audible
throughout, expiration fading after its first third; Bohadana et al. 2014, NEJM 370: 744-751).
The louder burst of each cycle is labelled inspiration, the rest expiration. LIMITS: over the
trachea, in obstructive disease (loud expiratory wheeze) or with airflow-independent noise this
can swap the phases; without a flow signal the labels are a heuristic, and the I/E ratio inherits
that uncertainty. The cycle boundaries and the rate do not depend on which phase is which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MIN_RATE_BPM = 6.0
MAX_RATE_BPM = 60.0
ENVELOPE_BAND_HZ = (200.0, 1000.0)  # above most heart-sound energy (S1/S2 < ~150 Hz)
HOP_S = 0.02
ONSET_FRACTION = 0.1  # onset: where the rise from trough to peak passes this fraction
TROUGH_PROMINENCE = 0.3
EXPIRATION_QUIETER_DB = 3.0  # expiration is quieter at the chest wall


@dataclass
class BreathSegmentation:
    """Cycles and phases. Segments are ``(start_s, end_s, label)``."""

    cycles: list[tuple[float, float]] = field(default_factory=list)
    phases: list[tuple[float, float, str]] = field(default_factory=list)  # inspiration/expiration
    rate_bpm: float = math.nan
    ie_ratio: float = math.nan
    envelope_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    envelope: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def segments(self) -> list[tuple[float, float, str]]:
        return [(s, e, "cycle") for s, e in self.cycles] + list(self.phases)


def breath_envelope(samples: np.ndarray, rate_hz: float, smooth_s: float = 0.3):
    """Frame times (s) and the smoothed log-energy envelope (dB) of the 200-1000 Hz band.

    A running median (``smooth_s``) removes short transients such as heart sounds and crackles
    (each < 0.15 s) before a running mean of the same length smooths the breath envelope.
    """
    from scipy.ndimage import median_filter, uniform_filter1d
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(samples, dtype=float)
    high = min(ENVELOPE_BAND_HZ[1], 0.45 * rate_hz)
    sos = butter(4, [ENVELOPE_BAND_HZ[0], high], btype="bandpass", fs=rate_hz, output="sos")
    if x.size > 30:
        x = sosfiltfilt(sos, x)
    hop = max(int(round(HOP_S * rate_hz)), 1)
    n = x.size // hop
    power = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    level = 10.0 * np.log10(power + 1e-12)
    floor = np.percentile(level, 5) if n else 0.0
    level = np.maximum(level, floor)  # ignore digital silence and dropouts
    width = max(int(round(smooth_s / HOP_S)), 1)
    smooth = uniform_filter1d(median_filter(level, width, mode="nearest"), width, mode="nearest")
    return (np.arange(n) + 0.5) * hop / rate_hz, smooth


def cycle_troughs(env: np.ndarray, prominence_fraction: float = TROUGH_PROMINENCE) -> np.ndarray:
    """Indices of the quiet pauses between breaths: deep envelope minima >= 1 s apart (<= 60/min).

    A pause is deep when the envelope rises by ``prominence_fraction`` of its dynamic range
    (5th-95th percentile) on both sides; the shallower dip between inspiration and expiration
    usually does not qualify.
    """
    from scipy.signal import find_peaks

    spread = float(np.percentile(env, 95) - np.percentile(env, 5))
    distance = int(round(60.0 / MAX_RATE_BPM / HOP_S))
    troughs, _ = find_peaks(-env, distance=distance, prominence=prominence_fraction * spread)
    return troughs


def _onset(env: np.ndarray, trough: int, stop: int) -> int:
    """First frame after ``trough`` where the envelope has risen ONSET_FRACTION of the way up."""
    peak = trough + int(np.argmax(env[trough:stop])) if stop > trough else trough
    level = env[trough] + ONSET_FRACTION * (env[peak] - env[trough])
    rising = np.flatnonzero(env[trough : peak + 1] >= level)
    return trough + int(rising[0]) if rising.size else trough


def label_bursts(peak_levels_db: list[float]) -> list[str]:
    """Label each breath-sound burst inspiration or expiration by the chest-wall heuristic.

    A burst at least EXPIRATION_QUIETER_DB quieter than the inspiration just before it is its
    expiration; every other burst starts a new cycle (inspiration). When expiration is inaudible
    every burst is an inspiration, which is also what normal vesicular breathing sounds like.
    """
    labels: list[str] = []
    for i, level in enumerate(peak_levels_db):
        after_inspiration = i > 0 and labels[-1] == "inspiration"
        quieter = i > 0 and peak_levels_db[i - 1] - level >= EXPIRATION_QUIETER_DB
        labels.append("expiration" if after_inspiration and quieter else "inspiration")
    return labels


def _split_phases(env: np.ndarray, i0: int, i1: int) -> int:
    """Frame where inspiration (the louder first burst) ends inside the cycle [i0, i1)."""
    cycle = env[i0:i1]
    ipk = int(np.argmax(cycle))
    level = cycle[0] + 0.5 * (cycle[ipk] - cycle[0])
    after = np.flatnonzero(cycle[ipk:] < level)
    split = ipk + (int(after[0]) if after.size else max(cycle.size - ipk - 1, 1))
    return i0 + min(max(split, 1), cycle.size - 1)


def segment_breathing(samples: np.ndarray, rate_hz: float) -> BreathSegmentation:
    """Cycles, inspiration/expiration phases, breathing rate (breaths/min) and I/E ratio."""
    times, env = breath_envelope(samples, rate_hz)
    result = BreathSegmentation(envelope_times_s=times, envelope=env)
    if env.size < int(2.0 / HOP_S):
        return result
    troughs = cycle_troughs(env)
    if troughs.size < 2:
        return result
    starts = [_onset(env, a, b) for a, b in zip(troughs[:-1], troughs[1:], strict=True)]
    starts.append(_onset(env, troughs[-1], env.size))
    peaks = [float(env[a:b].max()) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    phases = label_bursts(peaks)
    cycle_starts = [s for s, label in zip(starts[:-1], phases, strict=True) if label == "inspiration"]
    cycle_starts.append(starts[-1])
    insp, exp_ = [], []
    for a, b in zip(cycle_starts[:-1], cycle_starts[1:], strict=True):
        duration = times[b] - times[a]
        if not 60.0 / MAX_RATE_BPM <= duration <= 60.0 / MIN_RATE_BPM:
            continue
        inner = [s for s in starts if a < s < b]
        split = inner[0] if inner else _split_phases(env, a, b)
        start, t_split, end = float(times[a]), float(times[split]), float(times[b])
        result.cycles.append((start, end))
        result.phases += [(start, t_split, "inspiration"), (t_split, end, "expiration")]
        insp.append(t_split - start)
        exp_.append(end - t_split)
    if result.cycles:
        durations = np.diff(np.asarray(result.cycles), axis=1).ravel()
        result.rate_bpm = float(60.0 / np.median(durations))  # robust to one missed pause
    if insp and np.sum(exp_) > 0:
        result.ie_ratio = float(np.mean(insp) / np.mean(exp_))
    return result
