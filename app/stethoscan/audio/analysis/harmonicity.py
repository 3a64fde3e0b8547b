"""Harmonics-to-noise ratio by forward cross-correlation, after Boersma (1993).

The HNR of a frame is ``10 * log10(r / (1 - r))`` with ``r`` the height of the strongest
normalised cross-correlation peak (Boersma 1993, eq. 4). Defaults follow Praat's
"To Harmonicity (cc)..." (time step 0.01 s, floor 75 Hz, silence threshold 0.1, 1 period per
window); the recording's HNR is the mean over the frames that are not silent, as in Praat's
"Get mean". Numpy re-implementation of the published method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stethoscan.audio.analysis import sinc_interpolation
from stethoscan.audio.analysis.pitch_tracking import (
    frame_layout,
    keep_strongest,
    local_means,
    peak_candidates,
)

UNVOICED_DB = -200.0


@dataclass
class HarmonicityTrack:
    """Frame-wise HNR in dB; ``UNVOICED_DB`` (-200) marks silent or aperiodic frames."""

    times_s: np.ndarray
    hnr_db: np.ndarray

    def mean_db(self) -> float:
        """Mean HNR (dB) over the frames that are not -200, NaN when there are none."""
        sounding = self.hnr_db != UNVOICED_DB
        return float(self.hnr_db[sounding].mean()) if np.any(sounding) else math.nan


def _cross_correlations(x, rate_hz, times, floor_hz, periods_per_window):
    dx = 1.0 / rate_hz
    n_period = math.floor(1.0 / dx / floor_hz)
    half_period = n_period // 2 + 1
    dt_window = periods_per_window / floor_hz
    nsamp_window = math.floor(dt_window / dx)
    half_window = nsamp_window // 2 - 1
    nsamp_window = 2 * half_window
    max_lag = min(math.floor(nsamp_window / periods_per_window) + 2, nsamp_window)
    low = np.floor((times - 0.5 * dx) / dx).astype(int)
    means = local_means(x, low, n_period)
    # Intensity: peak of the centred (unwindowed) frame, half a longest period each side.
    centred = low[:, None] + 1 - half_window + np.arange(nsamp_window)
    j0 = max(half_window - half_period, 0)
    j1 = min(half_window + half_period, nsamp_window)
    local_peak = np.abs(x[np.clip(centred[:, j0:j1], 0, x.size - 1)] - means[:, None]).max(axis=1)
    start_time = times - 0.5 * (1.0 / floor_hz + dt_window)
    start = np.maximum(np.floor((start_time - 0.5 * dx) / dx).astype(int), 0)
    span = np.minimum(max_lag + nsamp_window, x.size - start)
    local_max_lag = span - nsamp_window
    offs = np.arange(max_lag + nsamp_window)
    seg = x[np.clip(start[:, None] + offs, 0, x.size - 1)] - means[:, None]
    seg = np.where(offs < span[:, None], seg, 0.0)
    first = seg[:, :nsamp_window]
    n_fft = 1
    while n_fft < max_lag + 2 * nsamp_window:
        n_fft *= 2
    product = np.fft.irfft(
        np.conj(np.fft.rfft(first, n_fft, axis=1)) * np.fft.rfft(seg, n_fft, axis=1), n_fft, axis=1
    )[:, : max_lag + 1]
    sq = np.concatenate((np.zeros((seg.shape[0], 1)), np.cumsum(seg * seg, axis=1)), axis=1)
    lags = np.arange(max_lag + 1)
    energy = sq[:, lags + nsamp_window] - sq[:, lags]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = product / np.sqrt(energy[:, :1] * energy)
    r = np.where((lags <= local_max_lag[:, None]) & np.isfinite(r), r, 0.0)
    r[:, 0] = 1.0
    # FFT round-off (~1e-15) turns a flat correlation (a constant window, e.g. digital silence
    # before an onset) into ripple that peak picking takes for peaks; Praat's exact sums stay
    # flat. Rounding to 12 decimals makes such ties exact and moves no real value measurably.
    return np.round(r, 12), local_peak, nsamp_window


def harmonicity_cc(
    samples: np.ndarray,
    rate_hz: float,
    *,
    time_step_s: float = 0.01,
    floor_hz: float = 75.0,
    silence_threshold: float = 0.1,
    periods_per_window: float = 1.0,
) -> HarmonicityTrack:
    """Frame-wise HNR (dB) of a mono sound (Praat "To Harmonicity (cc)")."""
    x = np.asarray(samples, dtype=float)
    dt_window = periods_per_window / floor_hz
    n_frames, t1 = frame_layout(x.size, rate_hz, 1.0 / floor_hz + dt_window, time_step_s)
    times = t1 + time_step_s * np.arange(n_frames)
    hnr = np.full(n_frames, UNVOICED_DB)
    global_peak = np.max(np.abs(x - x.mean())) if x.size else 0.0
    if n_frames == 0 or global_peak == 0.0:
        return HarmonicityTrack(times, hnr)
    r, local_peak, nsamp_window = _cross_correlations(x, rate_hz, times, floor_hz, periods_per_window)
    intensity = np.minimum(local_peak / global_peak, 1.0)
    frame, lag, lag_par, value_par = peak_candidates(r, 2, nsamp_window, 0.0)
    frame_ok = local_peak[frame] > 0.0
    frame, lag, lag_par, value_par = frame[frame_ok], lag[frame_ok], lag_par[frame_ok], value_par[frame_ok]
    r_sym = np.concatenate((r[:, :0:-1], r), axis=1)
    b = r.shape[1] - 1
    strength = sinc_interpolation.interpolate_at(r_sym[frame], lag_par + b, 30)
    strength = np.where(strength > 1.0, 1.0 / strength, strength)
    # Without octave or transition costs the path is the strongest candidate of each frame;
    # refinement moves strengths by far less than 0.02, so only close contenders are refined.
    keep = keep_strongest(frame, strength, 3)
    frame, lag, strength = frame[keep], lag[keep], strength[keep]
    frame_best = np.full(n_frames, -np.inf)
    np.maximum.at(frame_best, frame, strength)
    close = strength >= frame_best[frame] - 0.02
    frame, lag = frame[close], lag[close]
    _, peak = sinc_interpolation.refine_maxima(r_sym[frame], lag + b, 700)
    peak = np.where(peak > 1.0, 1.0 / peak, peak)
    best = np.full(n_frames, -np.inf)
    np.maximum.at(best, frame, peak)
    unvoiced_strength = np.maximum(0.0, 2.0 - intensity / silence_threshold)
    voiced = best > unvoiced_strength
    rv = best[voiced]
    hnr[voiced] = np.where(
        rv <= 1e-15, -150.0, np.where(rv > 1.0 - 1e-15, 150.0, 10.0 * np.log10(rv / (1.0 - rv)))
    )
    return HarmonicityTrack(times, hnr)
