"""Glottal period marks by waveform cross-correlation, and jitter and shimmer from them.

Method of Praat's "To PointProcess (periodic, cc)" and its "Voice report" (Boersma & Weenink,
Praat manual: "Voice 2. Jitter", "Voice 3. Shimmer"; Boersma 2009, "Should jitter be measured
by peak picking or by waveform matching?", Folia Phoniatr Logop 61: 305-308). In each voiced
stretch the first mark is the absolute extremum near the middle; the next ones are found one
period to the left and to the right by maximising the cross-correlation with the previous
period. Numpy re-implementation of the published method.
"""

from __future__ import annotations

import math

import numpy as np

from stethoscan.audio.analysis.pitch_tracking import PitchTrack


class _Signal:
    """A zero-padded sound so that windows hanging over its ends read zeros (as Praat skips them)."""

    def __init__(self, samples: np.ndarray, rate_hz: float) -> None:
        self.x = samples
        self.dx = 1.0 / rate_hz
        self.x1 = 0.5 * self.dx
        self.pad = int(0.1 * rate_hz) + 8
        self.padded = np.concatenate((np.zeros(self.pad), samples, np.zeros(self.pad)))
        self.padded_sq = np.concatenate(([0.0], np.cumsum(self.padded * self.padded)))

    def low(self, t: float) -> int:
        return math.floor((t - self.x1) / self.dx)

    def high(self, t: float) -> int:
        return math.ceil((t - self.x1) / self.dx)

    def nearest(self, t: float) -> int:
        return math.floor((t - self.x1) / self.dx + 0.5)


def _find_extremum(sig: _Signal, tmin: float, tmax: float) -> float:
    """Time of the largest absolute sample in [tmin, tmax], parabolically interpolated."""
    imin = max(sig.low(tmin), 0)
    imax = min(sig.high(tmax), sig.x.size - 1)
    n = imax - imin + 1
    if n <= 0:
        return 0.5 * (tmin + tmax)
    seg = sig.x[imin : imax + 1]
    if n < 3:
        iextr = 0.0 if n == 1 or abs(seg[0]) > abs(seg[1]) else 1.0
        if n == 2 and abs(seg[0]) == abs(seg[1]):
            iextr = 0.5
        return sig.x1 + (imin + iextr) * sig.dx
    i_min, i_max = int(np.argmin(seg)), int(np.argmax(seg))
    if seg[i_min] == seg[i_max]:
        return sig.x1 + (imin + 0.5 * (n - 1)) * sig.dx
    i = i_min if abs(seg[i_min]) > abs(seg[i_max]) else i_max
    if 0 < i < n - 1:
        left, mid, right = seg[i - 1], seg[i], seg[i + 1]
        i = i + 0.5 * (right - left) / (2.0 * mid - left - right)
    return sig.x1 + (imin + i) * sig.dx


def _max_correlation(sig: _Signal, t1: float, period: float, tmin2: float, tmax2: float):
    """Best match of the period around ``t1`` with one whose centre lies in [tmin2, tmax2].

    Returns (correlation, time of the match, peak amplitude of the matched window);
    correlation is -1 when no maximum was found.
    """
    half = 0.5 * period
    ileft1, iright1 = sig.nearest(t1 - half), sig.nearest(t1 + half)
    ileft2min, ileft2max = sig.low(tmin2 - half), sig.high(tmax2 - half)
    length = iright1 - ileft1 + 1
    count = ileft2max - ileft2min + 1
    p = sig.pad
    if count < 1 or length < 1 or ileft2min + p < 0 or ileft2max + length + p > sig.padded.size:
        return -1.0, t1, 0.0
    ref = sig.padded[ileft1 + p : iright1 + p + 1]
    span = sig.padded[ileft2min + p : ileft2max + p + length]
    product = np.correlate(span, ref, mode="valid")
    norm1 = float(ref @ ref)
    starts = np.arange(ileft2min, ileft2max + 1) + p
    norm2 = sig.padded_sq[starts + length] - sig.padded_sq[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(product != 0.0, product / np.sqrt(norm1 * norm2), 0.0)
    ext = np.concatenate(([0.0, 0.0], r))
    r1, r2, r3 = ext[:-2], ext[1:-1], ext[2:]
    ok = (r2 >= r1) & (r2 >= r3)
    if not np.any(ok):
        return -1.0, t1, 0.0
    k = int(np.flatnonzero(ok)[np.argmax(r2[ok])])
    best, rl, rr = r2[k], r1[k], r3[k]
    # Praat keeps the peak of the window one step after the best match.
    peak = float(np.max(np.abs(span[k : k + length])))
    ir = ileft2min + k - 1.0
    d2r = 2.0 * best - rl - rr
    if d2r != 0.0:
        dr = 0.5 * (rr - rl)
        best += 0.5 * dr * dr / d2r
        ir += dr / d2r
    return float(best), t1 + (ir - ileft1) * sig.dx, peak


def _voiced_interval_after(pitch: PitchTrack, after: float, xmax: float):
    n = pitch.times_s.size
    ileft = max(math.ceil((after - pitch.times_s[0]) / pitch.time_step_s), 0) if n else 0
    voiced = pitch.voiced
    while ileft < n and not voiced[ileft]:
        ileft += 1
    if ileft >= n:
        return None
    iright = ileft
    while iright + 1 < n and voiced[iright + 1]:
        iright += 1
    tleft = pitch.times_s[ileft] - 0.5 * pitch.time_step_s
    tright = pitch.times_s[iright] + 0.5 * pitch.time_step_s
    if tleft >= xmax - 0.5 * pitch.time_step_s:
        return None
    return max(tleft, 0.0), min(tright, xmax)


def _f0_at(pitch: PitchTrack, t: float, xmax: float) -> float:
    return pitch.value_at(t) if 0.0 <= t <= xmax else math.nan


def periodic_pulses(samples: np.ndarray, rate_hz: float, pitch: PitchTrack) -> np.ndarray:
    """Glottal period marks (s) in the voiced stretches of ``pitch`` (Praat's cc method)."""
    x = np.asarray(samples, dtype=float)
    sig = _Signal(x, rate_hz)
    xmax = x.size / rate_hz
    global_peak = float(np.max(np.abs(x))) if x.size else 0.0
    points: list[float] = []
    added_right = -1e308
    t = 0.0
    while (interval := _voiced_interval_after(pitch, t, xmax)) is not None:
        tleft, tright = interval
        tmiddle = 0.5 * (tleft + tright)
        f0middle = _f0_at(pitch, tmiddle, xmax)
        if math.isnan(f0middle):
            t = tright
            continue
        tmax = _find_extremum(sig, tmiddle - 0.5 / f0middle, tmiddle + 0.5 / f0middle)
        points.append(tmax)
        tsave = tmax
        while not math.isnan(f0 := _f0_at(pitch, tmax, xmax)):
            corr, tmax, peak = _max_correlation(sig, tmax, 1.0 / f0, tmax - 1.25 / f0, tmax - 0.8 / f0)
            if corr == -1.0:
                tmax -= 1.0 / f0
            if tmax < tleft:
                if corr > 0.7 and peak > 0.023333 * global_peak and tmax - added_right > 0.8 / f0:
                    points.append(tmax)
                break
            if corr > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                if tmax - added_right > 0.8 / f0:
                    points.append(tmax)
        tmax = tsave
        while not math.isnan(f0 := _f0_at(pitch, tmax, xmax)):
            corr, tmax, peak = _max_correlation(sig, tmax, 1.0 / f0, tmax + 0.8 / f0, tmax + 1.25 / f0)
            if corr == -1.0:
                tmax += 1.0 / f0
            if tmax > tright:
                if corr > 0.7 and peak > 0.023333 * global_peak:
                    points.append(tmax)
                    added_right = tmax
                break
            if corr > 0.3 and (peak == 0.0 or peak > 0.01 * global_peak):
                points.append(tmax)
                added_right = tmax
        t = tright
    return np.unique(np.asarray(points, dtype=float))
