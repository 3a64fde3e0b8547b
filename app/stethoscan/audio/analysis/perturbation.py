"""Jitter and shimmer from glottal period marks, with the definitions of Praat's Voice report.

Definitions (Praat manual, "Voice 2. Jitter" and "Voice 3. Shimmer"): periods shorter than the
shortest period (0.0001 s), longer than the longest period (0.02 s) or differing from both
neighbours by more than the maximum period factor (1.3) are not counted; consecutive amplitudes
differing by more than the maximum amplitude factor (1.6) are not counted. Amplitudes are the
Hann-windowed RMS over 0.2 of a period on either side of each mark.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SHORTEST_PERIOD_S = 0.0001
LONGEST_PERIOD_S = 0.02
MAX_PERIOD_FACTOR = 1.3
MAX_AMPLITUDE_FACTOR = 1.6


def _factor(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a > b, a / b, b / a)


def _in_range(p: np.ndarray, pmin: float, pmax: float) -> np.ndarray:
    return (p >= pmin) & (p <= pmax)


def mean_period(t: np.ndarray, pmin=SHORTEST_PERIOD_S, pmax=LONGEST_PERIOD_S,
                factor=MAX_PERIOD_FACTOR) -> float:
    """Mean of the intervals that count as periods (s), NaN if none."""
    p = np.diff(t)
    if p.size == 0:
        return math.nan
    ok = (p > 0) & _in_range(p, pmin, pmax)
    with np.errstate(invalid="ignore", divide="ignore"):
        prev = np.concatenate(([np.nan], p[:-1]))
        nxt = np.concatenate((p[1:], [np.nan]))
        fprev = np.where(prev > 0, _factor(p, prev), np.nan)
        fnext = np.where(nxt > 0, _factor(p, nxt), np.nan)
    both_far = (fprev > factor) & (fnext > factor)  # NaN compares False: no neighbour is fine
    ok &= ~both_far
    return float(p[ok].mean()) if np.any(ok) else math.nan


def _period_windows(t: np.ndarray, width: int, pmin, pmax, factor):
    """Sliding windows of ``width`` consecutive periods that all qualify."""
    p = np.diff(t)
    if p.size < width:
        return None, None
    win = sliding_window_view(p, width)
    ok = np.all(_in_range(win, pmin, pmax), axis=1)
    if width > 1:
        ok &= np.all(_factor(win[:, :-1], win[:, 1:]) <= factor, axis=1)
    return win, ok


def jitter(t: np.ndarray, pmin=SHORTEST_PERIOD_S, pmax=LONGEST_PERIOD_S,
           factor=MAX_PERIOD_FACTOR) -> dict[str, float]:
    """Jitter local (fraction), local absolute (s), RAP, PPQ5 and DDP (fractions)."""
    out = dict.fromkeys(("local", "local_absolute_s", "rap", "ppq5", "ddp"), math.nan)
    mp = mean_period(t, pmin, pmax, factor)
    win, ok = _period_windows(t, 2, pmin, pmax, factor)
    if win is not None and np.any(ok):
        absolute = float(np.mean(np.abs(win[ok, 0] - win[ok, 1])))
        out["local_absolute_s"] = absolute
        out["local"] = absolute / mp
    win, ok = _period_windows(t, 3, pmin, pmax, factor)
    if win is not None and np.any(ok):
        out["rap"] = float(np.mean(np.abs(win[ok, 1] - win[ok].mean(axis=1)))) / mp
        out["ddp"] = 3.0 * out["rap"]
    win, ok = _period_windows(t, 5, pmin, pmax, factor)
    if win is not None and np.any(ok):
        out["ppq5"] = float(np.mean(np.abs(win[ok, 2] - win[ok].mean(axis=1)))) / mp
    return out


def period_amplitudes(samples: np.ndarray, rate_hz: float, t: np.ndarray,
                      pmin=SHORTEST_PERIOD_S, pmax=LONGEST_PERIOD_S, factor=MAX_PERIOD_FACTOR):
    """Times (s) and Hann-windowed RMS amplitudes of the marks flanked by two valid periods."""
    if t.size < 3:
        return np.zeros(0), np.zeros(0)
    p1, p2 = np.diff(t)[:-1], np.diff(t)[1:]
    mid = t[1:-1]
    ok = _in_range(p1, pmin, pmax) & _in_range(p2, pmin, pmax) & (_factor(p1, p2) <= factor)
    dx, x1 = 1.0 / rate_hz, 0.5 / rate_hz
    tm, wl, wr = mid[ok], 0.2 * p1[ok], 0.2 * p2[ok]
    imin = np.maximum(np.ceil((tm - wl - x1) / dx).astype(int), 0)
    imax = np.minimum(np.floor((tm + wr - x1) / dx).astype(int), samples.size - 1)
    count = imax - imin + 1
    enough = count >= 3
    tm, wl, wr, imin, count = tm[enough], wl[enough], wr[enough], imin[enough], count[enough]
    if tm.size == 0:
        return np.zeros(0), np.zeros(0)
    offs = np.arange(int(count.max()))
    inside = offs < count[:, None]
    idx = np.minimum(imin[:, None] + offs, samples.size - 1)
    ts = x1 + idx * dx
    width = np.where(ts < tm[:, None], wl[:, None], wr[:, None])
    window = np.where(inside, 0.5 + 0.5 * np.cos(np.pi * (ts - tm[:, None]) / width), 0.0)
    rms = np.sqrt(np.sum((samples[idx] * window) ** 2, axis=1) / np.sum(window**2, axis=1))
    positive = rms > 0.0
    return tm[positive], rms[positive]


def _apq(times, amps, width, pmin, pmax, amp_factor):
    if amps.size < width:
        return math.nan
    a = sliding_window_view(amps, width)
    p = sliding_window_view(np.diff(times), width - 1)
    ok = np.all(_in_range(p, pmin, pmax), axis=1)
    ok &= np.all(_factor(a[:, :-1], a[:, 1:]) <= amp_factor, axis=1)
    if not np.any(ok):
        return math.nan
    centre = width // 2
    return float(np.mean(np.abs(a[ok, centre] - a[ok].mean(axis=1)))) / float(amps[:-1].mean())


def shimmer(samples: np.ndarray, rate_hz: float, t: np.ndarray, pmin=SHORTEST_PERIOD_S,
            pmax=LONGEST_PERIOD_S, factor=MAX_PERIOD_FACTOR,
            amp_factor=MAX_AMPLITUDE_FACTOR) -> dict[str, float]:
    """Shimmer local (fraction), local dB, APQ3, APQ5, APQ11 and DDA (fractions)."""
    out = dict.fromkeys(("local", "local_db", "apq3", "apq5", "apq11", "dda"), math.nan)
    times, amps = period_amplitudes(np.asarray(samples, dtype=float), rate_hz, t, pmin, pmax, factor)
    if amps.size < 2:
        return out
    a1, a2 = amps[:-1], amps[1:]
    ok = _in_range(np.diff(times), pmin, pmax) & (_factor(a1, a2) <= amp_factor)
    if np.any(ok):
        out["local"] = float(np.mean(np.abs(a1[ok] - a2[ok]))) / float(a1.mean())
        out["local_db"] = float(np.mean(np.abs(20.0 * np.log10(a1[ok] / a2[ok]))))
    out["apq3"] = _apq(times, amps, 3, pmin, pmax, amp_factor)
    out["apq5"] = _apq(times, amps, 5, pmin, pmax, amp_factor)
    out["apq11"] = _apq(times, amps, 11, pmin, pmax, amp_factor)
    out["dda"] = 3.0 * out["apq3"]
    return out
