"""F0 tracking by autocorrelation with Viterbi path finding, after Boersma (1993).

Boersma, P. (1993). Accurate short-term analysis of the fundamental frequency and the
harmonics-to-noise ratio of a sampled sound. IFA Proceedings 17: 97-110.

This is a numpy re-implementation of the published method with the parameter defaults of
Praat's "To Pitch (ac)..." (time step 0.75/floor, floor 75 Hz, ceiling 600 Hz, 15 candidates,
silence threshold 0.03, voicing threshold 0.45, octave cost 0.01, octave-jump cost 0.35,
voiced/unvoiced cost 0.14), so that clinicians get the figures they know from Praat. The
cross-correlation variant (used for the harmonics-to-noise ratio) lives in ``harmonicity``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stethoscan.audio.analysis import sinc_interpolation


@dataclass
class PitchTrack:
    """Frame-wise F0. ``f0_hz`` is 0 in unvoiced frames; ``times_s`` are frame centres."""

    times_s: np.ndarray
    f0_hz: np.ndarray
    strength: np.ndarray
    time_step_s: float
    ceiling_hz: float

    def __post_init__(self) -> None:
        self.voiced = (self.f0_hz > 0.0) & (self.f0_hz < self.ceiling_hz)

    def value_at(self, t: float) -> float:
        """Linearly interpolated F0 (Hz) at ``t`` s, NaN where the nearest frame is unvoiced."""
        n = self.times_s.size
        if n == 0:
            return math.nan
        ireal = (t - self.times_s[0]) / self.time_step_s
        ileft = math.floor(ireal)
        phase = ireal - ileft
        if phase < 0.5:
            inear, ifar = ileft, ileft + 1
        else:
            inear, ifar, phase = ileft + 1, ileft, 1.0 - phase
        if inear < 0 or inear >= n or not self.voiced[inear]:
            return math.nan
        fnear = self.f0_hz[inear]
        if ifar < 0 or ifar >= n or not self.voiced[ifar]:
            return float(fnear)
        return float(fnear + phase * (self.f0_hz[ifar] - fnear))


def frame_layout(n_samples: int, rate_hz: float, window_s: float, step_s: float) -> tuple[int, float]:
    """Number of frames and the first frame centre (s), fitted symmetrically in the sound."""
    dx = 1.0 / rate_hz
    duration = dx * n_samples
    if window_s > duration:
        return 0, 0.0
    n_frames = math.floor((duration - window_s) / step_s) + 1
    x1 = 0.5 * dx
    mid = x1 - 0.5 * dx + 0.5 * duration
    return n_frames, mid - 0.5 * n_frames * step_s + 0.5 * step_s


def local_means(x: np.ndarray, low_index: np.ndarray, n_period: int) -> np.ndarray:
    """Mean over ``2 * n_period`` samples around each frame (one longest period each side)."""
    csum = np.concatenate(([0.0], np.cumsum(x)))
    start = np.clip(low_index + 1 - n_period, 0, x.size)
    stop = np.clip(low_index + n_period + 1, 0, x.size)
    return (csum[stop] - csum[start]) / (2 * n_period)


def peak_candidates(r: np.ndarray, first_lag: int, last_lag: int, threshold: float):
    """Local maxima of ``r`` (frames x lags) with lag in [first_lag, last_lag) above threshold.

    Returns frame index, integer lag, parabolic lag and parabolic peak value per candidate.
    """
    if last_lag <= first_lag:
        empty = np.zeros(0, dtype=int)
        return empty, empty, np.zeros(0), np.zeros(0)
    mid = r[:, first_lag:last_lag]
    left = r[:, first_lag - 1 : last_lag - 1]
    right = r[:, first_lag + 1 : last_lag + 1]
    frame, col = np.nonzero((mid > threshold) & (mid > left) & (mid >= right))
    lag = col + first_lag
    rm, rl, rr = mid[frame, col], left[frame, col], right[frame, col]
    dr = 0.5 * (rr - rl)
    d2r = 2.0 * rm - rl - rr
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(d2r != 0.0, dr / d2r, 0.0)
    return frame, lag, lag + frac, rm + 0.5 * dr * frac


def keep_strongest(frame: np.ndarray, score: np.ndarray, per_frame: int) -> np.ndarray:
    """Indices of the ``per_frame`` best-scoring candidates of each frame."""
    if frame.size == 0:
        return np.zeros(0, dtype=int)
    order = np.lexsort((-score, frame))
    sorted_frames = frame[order]
    starts = np.searchsorted(sorted_frames, sorted_frames, side="left")
    rank = np.arange(order.size) - starts
    return np.sort(order[rank < per_frame])


def _ac_correlations(x, rate_hz, times, floor_hz, periods_per_window):
    """Normalised autocorrelation (Hanning window) and intensity per frame."""
    dx = 1.0 / rate_hz
    n_period = math.floor(1.0 / dx / floor_hz)
    half_period = n_period // 2 + 1
    nsamp_window = math.floor(periods_per_window / floor_hz / dx)
    half_window = nsamp_window // 2 - 1
    nsamp_window = 2 * half_window
    n_fft = 1
    while n_fft < nsamp_window * 1.5:
        n_fft *= 2
    window = 0.5 - 0.5 * np.cos(np.arange(1, nsamp_window + 1) * 2.0 * np.pi / (nsamp_window + 1))
    window_r = np.fft.irfft(np.abs(np.fft.rfft(window, n_fft)) ** 2, n_fft)
    window_r = window_r / window_r[0]
    low = np.floor((times - 0.5 * dx) / dx).astype(int)
    means = local_means(x, low, n_period)
    starts = low + 1 - half_window
    idx = starts[:, None] + np.arange(nsamp_window)
    frames = (x[np.clip(idx, 0, x.size - 1)] - means[:, None]) * window
    j0 = max(half_window - half_period, 0)
    j1 = min(half_window + half_period, nsamp_window)
    local_peak = np.abs(frames[:, j0:j1]).max(axis=1)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2, n_fft, axis=1)
    b = math.floor(nsamp_window * 0.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = ac[:, : b + 1] / (ac[:, :1] * window_r[: b + 1])
    r[:, 0] = 1.0
    r = np.nan_to_num(r)
    max_lag = min(math.floor(nsamp_window / periods_per_window) + 2, nsamp_window)
    return r, local_peak, max_lag, b


def pitch_ac(
    samples: np.ndarray,
    rate_hz: float,
    *,
    time_step_s: float = 0.0,
    floor_hz: float = 75.0,
    ceiling_hz: float = 600.0,
    max_candidates: int = 15,
    silence_threshold: float = 0.03,
    voicing_threshold: float = 0.45,
    octave_cost: float = 0.01,
    octave_jump_cost: float = 0.35,
    voiced_unvoiced_cost: float = 0.14,
    periods_per_window: float = 3.0,
) -> PitchTrack:
    """F0 of a mono sound by Boersma's autocorrelation method (Praat "To Pitch (ac)")."""
    x = np.asarray(samples, dtype=float)
    dx = 1.0 / rate_hz
    if time_step_s <= 0.0:
        time_step_s = periods_per_window / floor_hz / 4.0
    max_candidates = max(max_candidates, math.floor(ceiling_hz / floor_hz))
    ceiling_hz = min(ceiling_hz, 0.5 / dx)
    n_frames, t1 = frame_layout(x.size, rate_hz, periods_per_window / floor_hz, time_step_s)
    times = t1 + time_step_s * np.arange(n_frames)
    empty = PitchTrack(times, np.zeros(n_frames), np.zeros(n_frames), time_step_s, ceiling_hz)
    global_peak = np.max(np.abs(x - x.mean())) if x.size else 0.0
    if n_frames == 0 or global_peak == 0.0:
        return empty
    r, local_peak, max_lag, b = _ac_correlations(x, rate_hz, times, floor_hz, periods_per_window)
    intensity = np.minimum(local_peak / global_peak, 1.0)
    r[local_peak == 0.0] = 0.0
    frame, lag, lag_par, _ = peak_candidates(r, 2, min(max_lag, b), 0.5 * voicing_threshold)
    r_sym = np.concatenate((r[:, :0:-1], r), axis=1)  # index p <-> lag p - b
    strength = sinc_interpolation.interpolate_at(r_sym[frame], lag_par + b, 30)
    strength = np.where(strength > 1.0, 1.0 / strength, strength)
    freq = rate_hz / lag_par
    keep = keep_strongest(frame, strength - octave_cost * np.log2(floor_hz / freq), max_candidates - 1)
    frame, lag = frame[keep], lag[keep]
    pos, peak = sinc_interpolation.refine_maxima(r_sym[frame], lag + b, 70)
    freq = rate_hz / (pos - b)
    strength = np.where(peak > 1.0, 1.0 / peak, peak)
    f0, best_strength = viterbi_path(
        n_frames, frame, freq, strength, intensity, max_candidates, ceiling_hz,
        silence_threshold, voicing_threshold, octave_cost, octave_jump_cost * 0.01 / time_step_s,
        voiced_unvoiced_cost * 0.01 / time_step_s,
    )
    return PitchTrack(times, f0, best_strength, time_step_s, ceiling_hz)


def viterbi_path(n_frames, frame, freq, strength, intensity, n_slots, ceiling_hz,
                 silence_threshold, voicing_threshold, octave_cost, jump_cost, vuv_cost):
    """Best path through the candidates (slot 0 = unvoiced); returns F0 (0 = unvoiced) and strength."""
    slot_freq = np.zeros((n_frames, n_slots))
    slot_strength = np.zeros((n_frames, n_slots))
    valid = np.zeros((n_frames, n_slots), dtype=bool)
    valid[:, 0] = True
    if frame.size:
        starts = np.searchsorted(frame, frame, side="left")
        slot = np.arange(frame.size) - starts + 1
        slot_freq[frame, slot] = freq
        slot_strength[frame, slot] = strength
        valid[frame, slot] = True
    voiced = valid & (slot_freq > 0.0) & (slot_freq < ceiling_hz)
    unvoiced_strength = voicing_threshold + np.maximum(
        0.0, 2.0 - intensity / (silence_threshold / (1.0 + voicing_threshold))
    ) if silence_threshold > 0 else np.full(n_frames, voicing_threshold)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = np.where(voiced, np.log2(np.where(voiced, slot_freq, 1.0)), 0.0)
        delta = np.where(voiced, slot_strength - octave_cost * (np.log2(ceiling_hz) - log_f),
                         unvoiced_strength[:, None])
    delta = np.where(valid, delta, -np.inf)
    psi = np.zeros((n_frames, n_slots), dtype=int)
    cols = np.arange(n_slots)
    for i in range(1, n_frames):
        v1, v2 = voiced[i - 1][:, None], voiced[i][None, :]
        jump = jump_cost * np.abs(log_f[i - 1][:, None] - log_f[i][None, :])
        trans = np.where(v1 & v2, jump, np.where(v1 != v2, vuv_cost, 0.0))
        total = delta[i - 1][:, None] - trans
        best = np.argmax(total, axis=0)
        psi[i] = best
        delta[i] = np.where(valid[i], total[best, cols] + delta[i], -np.inf)
    place = int(np.argmax(delta[-1]))
    path = np.zeros(n_frames, dtype=int)
    for i in range(n_frames - 1, -1, -1):
        path[i] = place
        place = psi[i, place]
    rows = np.arange(n_frames)
    return slot_freq[rows, path], slot_strength[rows, path]
