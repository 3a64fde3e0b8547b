"""Breathing cycles, inspiration and expiration, breathing rate and I/E ratio from chest sounds.

Method, in three steps, none tuned to particular recordings:

1. Envelope (``breath_envelope``): the median over six 150-1000 Hz sub-bands of their log
   energy, each referred to its own median (wheezes and heart sounds move it little), then a
   running 25th percentile over 0.5 s (short transients) and a running mean.
2. Period. Real breathing is irregular (cycle lengths vary by 10-30 %, with now and then a long
   pause): the envelope's autocorrelation is then smeared and its highest peak is often two or
   three cycles. Each candidate period (25 log-spaced, 6-60 breaths/min) is therefore scored by
   its best chain of boundaries (step 3), which lets each cycle vary, and the best is kept.
   Where the autocorrelation of the envelope as an amplitude is clearly periodic, candidates
   below 0.75 of its period are not tried: a loud inspiration and a quieter expiration are one
   cycle, not two.
3. Boundaries. Cycle boundaries are envelope minima (the end-expiratory pauses), chosen
   jointly by dynamic programming: each interval between consecutive boundaries earns its
   contrast (its loudest envelope above the louder of its two ends, over the envelope's range)
   less a fixed cost, and pays for its log-ratio to the period. A dip inside a long pause, or
   the shallower dip between inspiration and expiration, rarely pays for the cycle it would add;
   a missed pause costs one long interval, not the whole chain. An interval that would skip a
   pause, an inner minimum as deep as the deeper of its ends with sound rising on both sides
   of it, also pays that rise: a quiet breath after a loud one is a breath, whereas the dip
   between inspiration and expiration seldom falls to the level of the pauses. Each cycle
   starts at the sound onset after its pause: where the first real rise (to half the cycle's
   loudness) begins. The rate is 60 / mean interval of the chain (count of cycles per time,
   as a clinician counts); with fewer than two cycles there is no rate. An envelope that varies by
   less than MIN_ENVELOPE_RANGE_DB (steady noise, a tone) has no breathing to count.

Inspiration versus expiration: at the chest wall, inspiratory sounds are louder than expiratory
ones, and expiration is usually longer and quieter (normal vesicular sound: inspiration audible
throughout, expiration fading after its first third; Bohadana et al. 2014, NEJM 370: 744-751).
The louder first burst of each cycle is labelled inspiration, the rest expiration. LIMITS: over
the trachea, in obstructive disease (loud expiratory wheeze) or with airflow-independent noise
this can swap the phases; without a flow signal the labels are a heuristic, and the I/E ratio
inherits that uncertainty. The cycle boundaries and the rate do not depend on which phase is
which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from stethoscan.audio.analysis.breath_envelope import (
    HOP_S,
    SMOOTH_S,
    TRANSIENT_PERCENTILE,
    _frame_times,
    _smooth,
    _sub_band_levels,
    breath_envelope,
)

__all__ = [
    "BreathSegmentation", "breath_envelope", "breathing_period", "chain_period",
    "cycle_troughs", "label_bursts", "segment_breathing",
]

MIN_RATE_BPM = 6.0
MAX_RATE_BPM = 60.0
ACF_DB_SCALE = 20.0  # the autocorrelation runs on amplitude (dB / 20): a quieter expiration
# (-6..-12 dB) weighs less than the inspiration, which log units hide (else: half periods)
PEAK_SHARE = 0.8  # shortest autocorrelation peak reaching this share of the highest one
ACF_SURE = 0.4  # autocorrelation this high at its period: no candidate below 0.75 of it
INTERVAL_WEIGHT = 4.0  # cost of an interval per squared log-ratio to the period
CYCLE_COST = 0.3  # each cycle must rise this share of the envelope's range above its pauses
PERIOD_CANDIDATES = 25  # log-spaced over 1-10 s (10 % apart)
ONSET_FRACTION = 0.1  # onset: where the rise from trough to peak passes this fraction
EXPIRATION_QUIETER_DB = 3.0  # expiration is quieter at the chest wall
MIN_ENVELOPE_RANGE_DB = 4.0  # breath sounds rise this far above the pauses (real chest
# recordings here: 11-39 dB; steady noise or a tone: under 1.5 dB)


@dataclass
class BreathSegmentation:
    """Cycles and phases. Segments are ``(start_s, end_s, label)``."""

    cycles: list[tuple[float, float]] = field(default_factory=list)
    phases: list[tuple[float, float, str]] = field(default_factory=list)  # inspiration/expiration
    rate_bpm: float = math.nan
    ie_ratio: float = math.nan
    period_s: float = math.nan  # dominant breathing period from the envelope's autocorrelation
    envelope_range_db: float = math.nan  # 5th-95th percentile range of the envelope (dB)
    envelope_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    envelope: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def segments(self) -> list[tuple[float, float, str]]:
        return [(s, e, "cycle") for s, e in self.cycles] + list(self.phases)


def breathing_period(env: np.ndarray, hop_s: float = HOP_S) -> float:
    """Dominant breathing period (s) from the envelope's autocorrelation, 6-60 breaths/min.

    The shortest lag whose autocorrelation peak reaches PEAK_SHARE of the highest peak (so a
    double period, also a peak, is not chosen), refined by parabolic interpolation. NaN when
    the envelope has no periodicity in the band or is shorter than two shortest periods.
    """
    return _acf_period(env, hop_s)[0]


def _acf_period(env: np.ndarray, hop_s: float) -> tuple[float, float]:
    """(period s, autocorrelation at it) as in ``breathing_period``; (NaN, 0) without one."""
    from scipy.signal import find_peaks

    # Clipped to its 10th-95th percentiles, so long silent stretches (digital silence before
    # the stethoscope touches the chest) weigh no more than an ordinary end-expiratory pause.
    x = np.clip(env, *np.percentile(env, [10, 95]))
    x = 10.0 ** ((x - x.max()) / ACF_DB_SCALE)  # amplitude
    x = x - x.mean()
    n = x.size
    lo = int(round(60.0 / MAX_RATE_BPM / hop_s))
    hi = min(int(round(60.0 / MIN_RATE_BPM / hop_s)), int(n / 1.5))
    if hi <= lo + 2 or not np.any(x):
        return math.nan, 0.0
    spec = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spec * np.conj(spec))[:n]
    acf = acf / acf[0]  # biased: long lags, seen fewer times, weigh less
    peaks, _ = find_peaks(acf[: hi + 1])
    peaks = peaks[(peaks >= lo) & (acf[peaks] > 0)]
    if peaks.size == 0:
        return math.nan, 0.0
    best = peaks[acf[peaks] >= PEAK_SHARE * acf[peaks].max()][0]
    a, b, c = acf[best - 1], acf[best], acf[min(best + 1, n - 1)]
    shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    return float((best + np.clip(shift, -0.5, 0.5)) * hop_s), float(acf[best])


def _minima(env: np.ndarray) -> np.ndarray:
    """Indices of the envelope's local minima (plateaus counted once)."""
    from scipy.signal import find_peaks

    minima, _ = find_peaks(-env, plateau_size=(1, None))
    return minima


def _chain(env: np.ndarray, minima: np.ndarray, period_frames: float,
           skipped: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Best chain of ``minima`` for one period: its score and its indices into ``minima``.

    ``skipped``: ``_skipped_pauses(env, minima)``, when already computed.
    """
    if skipped is None:
        skipped = _skipped_pauses(env, minima)
    lo_level, hi_level = np.percentile(env, [5, 95])
    scale = max(hi_level - lo_level, 1e-9)
    level = env[minima]
    top = np.maximum.reduceat(env, minima)[:-1]  # loudest between consecutive minima
    first = np.searchsorted(minima, minima - 2.5 * period_frames)  # intervals <= 2.5 periods
    last = np.searchsorted(minima, minima - 0.5 * period_frames, side="right")  # >= 0.5
    score = np.zeros(minima.size)
    previous = np.full(minima.size, -1)
    for j in range(1, minima.size):
        k0, k1 = first[j], last[j]
        if k1 <= k0:
            continue
        peak = np.maximum.accumulate(top[k0:j][::-1])[::-1][: k1 - k0]  # loudest from k to j
        d = (minima[j] - minima[k0:k1]) / period_frames
        ends = np.maximum(level[k0:k1], level[j])
        gain = (score[k0:k1] + (peak - ends) / scale - CYCLE_COST
                - INTERVAL_WEIGHT * np.log(d) ** 2
                - skipped[k0:k1, j] / scale)
        k = int(np.argmax(gain))
        if gain[k] > score[j]:
            score[j], previous[j] = gain[k], k0 + k
    chain = [int(np.argmax(score))]
    while previous[chain[-1]] >= 0:
        chain.append(int(previous[chain[-1]]))
    return float(score.max()), np.asarray(chain[::-1])


def _skipped_pauses(env: np.ndarray, minima: np.ndarray) -> np.ndarray:
    """Matrix [k, j]: for the interval between minima k and j, the largest rise on both sides
    above an inner minimum as deep as the deeper of the interval's ends (dB): a pause inside
    the interval, i.e. a breath the interval would skip. Zero without one."""
    n = minima.size
    top = np.maximum.reduceat(env, minima)[:-1]
    loudest = np.full((n, n), -np.inf)  # [a, b]: loudest envelope between minima a < b
    for a in range(n - 1):
        loudest[a, a + 1 :] = np.maximum.accumulate(top[a:])
    level = env[minima]
    out = np.zeros((n, n))
    inner = np.arange(n)
    for j in range(2, n):
        ends = np.minimum(level[:j], level[j])[:, None]  # [k, 1]
        rise = np.minimum(loudest[:j, :j], loudest[:j, j][None, :]) - ends  # [k, m]
        valid = (inner[None, :j] > inner[:j, None]) & (level[None, :j] <= ends)
        out[:j, j] = np.maximum(np.where(valid, rise, 0.0).max(axis=1), 0.0)
    return out


def cycle_troughs(env: np.ndarray, period_frames: float) -> np.ndarray:
    """End-expiratory pauses: the chain of envelope minima best matching the period.

    Dynamic programming over the local minima: each interval between consecutive boundaries
    earns its contrast (the loudest envelope inside it above the louder of its two ends, over
    the 5th-95th percentile range: a breath between two pauses) minus CYCLE_COST, and pays
    INTERVAL_WEIGHT * log(d / period)^2 and the rise of any pause it skips (see
    ``_skipped_pauses``); it must last 0.5-2.5 periods. A dip inside a long pause or between
    inspiration and expiration rarely pays for the cycle it would add.
    """
    minima = _minima(env)
    if minima.size < 2 or not np.isfinite(period_frames):
        return minima[:0]
    return minima[_chain(env, minima, period_frames)[1]]


def chain_period(env: np.ndarray, hop_s: float = HOP_S) -> float:
    """Breathing period (s): the candidate (6-60 breaths/min) whose chain of minima scores best.

    Irregular breathing smears the autocorrelation, whose highest peak is then often two or
    three cycles; the chain, which lets each cycle vary, is scored instead. Where the
    autocorrelation is clearly periodic (ACF_SURE) periods below 0.75 of its period are not
    tried: a loud inspiration and a quieter expiration are one cycle, not two.
    """
    minima = _minima(env)
    if minima.size < 2:
        return math.nan
    candidates = np.geomspace(60.0 / MAX_RATE_BPM, 60.0 / MIN_RATE_BPM, PERIOD_CANDIDATES) / hop_s
    acf_period, strength = _acf_period(env, hop_s)
    if np.isfinite(acf_period) and strength >= ACF_SURE:
        candidates = candidates[candidates >= 0.75 * acf_period / hop_s]
    candidates = candidates[candidates < env.size / 1.5]
    if candidates.size == 0:
        return math.nan
    skipped = _skipped_pauses(env, minima)
    scores = [_chain(env, minima, p, skipped)[0] for p in candidates]
    return float(candidates[int(np.argmax(scores))] * hop_s)


def _onset(env: np.ndarray, trough: int, stop: int) -> int:
    """Start of the first real rise after ``trough``: the last frame still below ONSET_FRACTION
    of the way up before the envelope first passes half way (a long pause's ripples are not it)."""
    peak = trough + int(np.argmax(env[trough:stop])) if stop > trough else trough
    rise = env[peak] - env[trough]
    half = trough + int(np.argmax(env[trough : peak + 1] >= env[trough] + 0.5 * rise))
    below = np.flatnonzero(env[trough : half + 1] < env[trough] + ONSET_FRACTION * rise)
    return trough + int(below[-1]) + 1 if below.size else trough


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
    level = np.median(_sub_band_levels(samples, rate_hz), axis=1)
    times = _frame_times(level.size, rate_hz)
    env = _smooth(level, TRANSIENT_PERCENTILE, SMOOTH_S) if level.size else level
    result = BreathSegmentation(envelope_times_s=times, envelope=env)
    if env.size < int(2.0 / HOP_S):
        return result
    result.envelope_range_db = float(np.subtract(*np.percentile(env, [95, 5])))
    if result.envelope_range_db < MIN_ENVELOPE_RANGE_DB:
        return result  # steady noise or a tone: no breathing to count
    phase_env = _smooth(level, 50, SMOOTH_S)  # the running median keeps phase lengths unbiased
    result.period_s = chain_period(env)
    troughs = cycle_troughs(env, result.period_s / HOP_S)
    starts = [_onset(env, a, b) for a, b in zip(troughs[:-1], troughs[1:], strict=True)]
    if troughs.size:
        starts.append(_onset(env, int(troughs[-1]), env.size))
    insp, exp_ = [], []
    for a, b in zip(starts[:-1], starts[1:], strict=True):
        if not 60.0 / MAX_RATE_BPM <= times[b] - times[a] <= 60.0 / MIN_RATE_BPM:
            continue
        split = _split_phases(phase_env, a, b)
        start, t_split, end = float(times[a]), float(times[split]), float(times[b])
        result.cycles.append((start, end))
        result.phases += [(start, t_split, "inspiration"), (t_split, end, "expiration")]
        insp.append(t_split - start)
        exp_.append(end - t_split)
    if len(result.cycles) >= 2:  # fewer: no rate (a guess from one cycle would look like one)
        durations = np.diff(np.asarray(result.cycles), axis=1).ravel()
        result.rate_bpm = float(60.0 / durations.mean())
    if insp and np.sum(exp_) > 0:
        result.ie_ratio = float(np.mean(insp) / np.mean(exp_))
    return result
