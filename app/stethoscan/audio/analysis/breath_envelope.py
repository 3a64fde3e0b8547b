"""Breath-sound envelope: sub-band levels of chest sounds, robust to wheezes and heart sounds.

The 150-1000 Hz band (breath sounds carry most of their energy from 100 to 1000 Hz, Pasterkamp
et al. 1997; heart sounds S1/S2 mostly lie below 150 Hz) is split into six log-spaced
sub-bands; each sub-band's log energy (dB, 20 ms frames) is referred to its own median, and
the envelope is the MEDIAN over sub-bands: a wheeze (one tone and its harmonics) or the upper
tail of heart sounds raises only one or two sub-bands and barely moves it. A running 25th
percentile over 0.5 s then removes short transients (heart sounds, crackles, contact clicks,
each < 0.15 s) and a running mean smooths what is left. Used by ``breath_segmentation``.
"""

from __future__ import annotations

import math

import numpy as np

ENVELOPE_BAND_HZ = (150.0, 1000.0)  # above most heart-sound energy (S1/S2 < ~150 Hz)
SUB_BANDS = 6
HOP_S = 0.02
FRAME_S = 0.032
TRANSIENT_S = 0.5  # running low percentile: longer than heart sounds and crackles (< 0.15 s)
TRANSIENT_PERCENTILE = 25  # heart sounds may fill half of a window (S1 + S2 at 80-140/min)
SMOOTH_S = 0.2


def _sub_band_levels(samples: np.ndarray, rate_hz: float) -> np.ndarray:
    """Log energy (dB) per frame (rows) and sub-band (columns), each band minus its median."""
    x = np.asarray(samples, dtype=np.float64)
    hop = max(int(round(HOP_S * rate_hz)), 1)
    n_fft = int(2 ** math.ceil(math.log2(max(FRAME_S * rate_hz, 8))))
    n = max((x.size - n_fft) // hop + 1, 0)
    if n == 0:
        return np.zeros((0, SUB_BANDS))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop][:n]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate_hz)
    high = min(ENVELOPE_BAND_HZ[1], 0.45 * rate_hz)
    edges = np.geomspace(ENVELOPE_BAND_HZ[0], high, SUB_BANDS + 1)
    bands = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (freqs >= lo) & (freqs < hi)
        if sel.any():
            bands.append(power[:, sel].sum(axis=1))
    if not bands:
        bands = [power.sum(axis=1)]
    level = 10.0 * np.log10(np.stack(bands, axis=1) + 1e-20)
    floor = np.percentile(level, 5, axis=0)
    level = np.maximum(level, floor)  # ignore digital silence and dropouts
    return level - np.median(level, axis=0)


def _frame_times(n_frames: int, rate_hz: float) -> np.ndarray:
    hop = max(int(round(HOP_S * rate_hz)), 1)
    n_fft = int(2 ** math.ceil(math.log2(max(FRAME_S * rate_hz, 8))))
    return (np.arange(n_frames) * hop + 0.5 * n_fft) / rate_hz


def _smooth(level: np.ndarray, percentile: float, smooth_s: float) -> np.ndarray:
    """Running ``percentile`` over TRANSIENT_S, then a running mean over ``smooth_s``."""
    from scipy.ndimage import percentile_filter, uniform_filter1d

    width = max(int(round(TRANSIENT_S / HOP_S)), 1)
    smooth = percentile_filter(level, percentile, width, mode="nearest")
    return uniform_filter1d(smooth, max(int(round(smooth_s / HOP_S)), 1), mode="nearest")


def breath_envelope(samples: np.ndarray, rate_hz: float, smooth_s: float = SMOOTH_S,
                    percentile: float = TRANSIENT_PERCENTILE):
    """Frame times (s) and the breath-sound envelope (dB relative to its median).

    Median over six 150-1000 Hz sub-bands (robust to wheezes), then a running ``percentile``
    over TRANSIENT_S (a low one removes heart sounds and crackles even when they fill half the
    window, but makes loud stretches look shorter; 50 keeps their length) and a running mean
    of ``smooth_s``.
    """
    level = np.median(_sub_band_levels(samples, rate_hz), axis=1)
    if level.size == 0:
        return np.zeros(0), level
    return _frame_times(level.size, rate_hz), _smooth(level, percentile, smooth_s)
