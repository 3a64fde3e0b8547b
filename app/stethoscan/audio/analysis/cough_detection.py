"""Cough events: explosive onset, broadband sound, 200-600 ms (up to ~0.8 s with the voiced tail).

A cough has an explosive phase (glottis opens: the level rises by tens of dB within a few
tens of ms), an intermediate broadband (noise-like) phase, and sometimes a voiced closure;
typical duration 200-600 ms (Korpas et al. 1996, Eur Respir Rev 6: 9-13; Morice et al. 2007,
ERS guidelines on the assessment of cough). Speech is mostly voiced with energy below 1 kHz and
rises slowly; a slammed door is explosive but far shorter than 150 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HOP_S = 0.005
WINDOW_S = 0.02
ABOVE_FLOOR_DB = 15.0  # event frames: this far above the background (10th percentile)
MIN_RISE_DB = 12.0  # explosive onset: rise within ONSET_S of the event start
ONSET_S = 0.05
MIN_DURATION_S = 0.15
MAX_DURATION_S = 0.8
MIN_HIGH_BAND_FRACTION = 0.25  # fraction of energy above 1 kHz: broadband
MERGE_GAP_S = 0.06


@dataclass
class CoughEvent:
    start_s: float
    end_s: float
    peak_dbfs: float
    onset_rise_db: float
    high_band_fraction: float


@dataclass
class CoughDetection:
    events: list[CoughEvent] = field(default_factory=list)
    rejected: list[tuple[float, float, str]] = field(default_factory=list)  # with the reason

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def segments(self) -> list[tuple[float, float, str]]:
        return [(e.start_s, e.end_s, "cough") for e in self.events]


def _frames(x: np.ndarray, rate_hz: float):
    hop = max(int(round(HOP_S * rate_hz)), 1)
    win = max(int(round(WINDOW_S * rate_hz)), 8)
    padded = np.pad(x, (win // 2, win))
    n = max((padded.size - win) // hop, 0)
    idx = np.arange(n)[:, None] * hop + np.arange(win)
    return padded[idx] * np.hanning(win), hop


def detect_coughs(samples: np.ndarray, rate_hz: float) -> CoughDetection:
    """Find cough events in a mono recording."""
    x = np.asarray(samples, dtype=float)
    result = CoughDetection()
    if x.size < int(0.1 * rate_hz):
        return result
    frames, hop = _frames(x, rate_hz)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(frames.shape[1], 1.0 / rate_hz)
    total = spec.sum(axis=1) + 1e-20
    level = 10.0 * np.log10(total / frames.shape[1] + 1e-20)
    high = spec[:, freqs >= 1000.0].sum(axis=1) / total
    floor = np.percentile(level, 10)
    active = level > floor + ABOVE_FLOOR_DB
    gap = int(round(MERGE_GAP_S / HOP_S))
    runs = _runs(active, gap)
    onset_frames = int(round(ONSET_S / HOP_S))
    for a, b in runs:
        start, end = a * hop / rate_hz, b * hop / rate_hz
        duration = end - start
        peak = float(level[a:b].max())
        before = level[max(a - onset_frames, 0) : a + 1].min()
        rise = float(level[a : min(a + onset_frames, b)].max() - before)
        weights = 10.0 ** (level[a:b] / 10.0)
        hb = float(np.sum(high[a:b] * weights) / np.sum(weights))
        reason = ""
        if duration < MIN_DURATION_S:
            reason = "too short for a cough"
        elif duration > MAX_DURATION_S:
            reason = "too long for a cough"
        elif rise < MIN_RISE_DB:
            reason = "onset not explosive"
        elif hb < MIN_HIGH_BAND_FRACTION:
            reason = "not broadband"
        if reason:
            result.rejected.append((start, end, reason))
        else:
            result.events.append(CoughEvent(start, end, peak, rise, hb))
    return result


def _runs(mask: np.ndarray, merge_gap: int) -> list[tuple[int, int]]:
    """Runs of True (start, end exclusive), merging runs separated by <= merge_gap frames."""
    padded = np.concatenate(([False], mask, [False])).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] <= merge_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged
