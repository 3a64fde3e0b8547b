"""Min/max levels of a waveform for drawing long recordings fast (numpy only, no Qt).

A plot of an hour at 48 kHz cannot hand 170 million points to the screen. ``WaveformLevels``
keeps min/max pairs per bucket of 16, 32, 64, ... samples (about a quarter of the recording's
size in total) and ``visible_curve(start_s, end_s, width_px)`` returns at most a few points per
pixel: the raw samples when zoomed in, else the min/max envelope of the best level, clipped to
the visible range. So drawing costs the same whatever the recording's length.
"""

from __future__ import annotations

import math

import numpy as np

_FIRST_BUCKET = 16
_POINTS_PER_PIXEL = 2.0


class WaveformLevels:
    """Raw samples plus min/max levels; times in s from the start of the recording."""

    def __init__(self, samples: np.ndarray, rate_hz: float) -> None:
        self.samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.rate_hz = float(rate_hz)
        self.levels: list[tuple[int, np.ndarray, np.ndarray]] = []  # (bucket, mins, maxs)
        bucket, lows, highs = _FIRST_BUCKET, *_reduce(self.samples, _FIRST_BUCKET)
        while lows.size >= 2:
            self.levels.append((bucket, lows, highs))
            lows, highs = _pairwise(lows, np.minimum), _pairwise(highs, np.maximum)
            bucket *= 2
        self.typical_peak = self._typical_peak()

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate_hz

    @property
    def peak(self) -> float:
        """Largest absolute sample value (full scale 1.0)."""
        if self.levels:
            _, lows, highs = self.levels[-1]
            return float(max(-lows.min(), highs.max()))
        return float(np.max(np.abs(self.samples))) if self.samples.size else 0.0

    def _typical_peak(self) -> float:
        """The level 99.5 % of 16-sample blocks stay under: a scale that one click cannot spoil."""
        if not self.levels or self.levels[0][1].size < 200:
            return self.peak
        _, lows, highs = self.levels[0]
        return float(np.percentile(np.maximum(-lows, highs), 99.5))

    def visible_curve(self, start_s: float, end_s: float, width_px: int) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and values to draw ``start_s..end_s`` on ``width_px`` pixels.

        A margin of half the visible span on each side is included, so small pans need no update.
        """
        span = max(end_s - start_s, 1.0 / self.rate_hz)
        first = max(int(math.floor((start_s - 0.5 * span) * self.rate_hz)), 0)
        last = min(int(math.ceil((end_s + 0.5 * span) * self.rate_hz)) + 1, self.samples.size)
        if last <= first:
            return np.zeros(0), np.zeros(0)
        budget = max(int(width_px), 16) * _POINTS_PER_PIXEL * 2  # the visible part plus margins
        level = self._level_for(last - first, budget)
        if level is None:
            return np.arange(first, last) / self.rate_hz, self.samples[first:last]
        return self._envelope(level, first, last)

    def overview_curve(self, points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """The whole recording as at most about ``points`` min/max points."""
        level = self._level_for(self.samples.size, points)
        if level is None:
            return np.arange(self.samples.size) / self.rate_hz, self.samples
        return self._envelope(level, 0, self.samples.size)

    def _level_for(self, n_samples: int, budget: float) -> tuple[int, np.ndarray, np.ndarray] | None:
        if n_samples <= budget:
            return None
        for level in self.levels:
            if 2 * n_samples / level[0] <= budget:
                return level
        return self.levels[-1] if self.levels else None

    def _envelope(self, level: tuple[int, np.ndarray, np.ndarray], first: int, last: int):
        bucket, lows, highs = level
        a, b = first // bucket, min(int(math.ceil(last / bucket)), lows.size)
        times = (np.arange(a, b) + 0.5) * (bucket / self.rate_hz)
        # Each bucket draws a vertical stroke from its minimum to its maximum.
        x = np.repeat(times, 2)
        y = np.empty(x.size, dtype=np.float32)
        y[0::2], y[1::2] = lows[a:b], highs[a:b]
        return x, y


def _reduce(samples: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    n = samples.size // bucket * bucket
    if n == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    blocks = samples[:n].reshape(-1, bucket)
    lows, highs = blocks.min(axis=1), blocks.max(axis=1)
    if n < samples.size:  # the last, partial bucket
        tail = samples[n:]
        lows, highs = np.append(lows, tail.min()), np.append(highs, tail.max())
    return lows, highs


def _pairwise(values: np.ndarray, combine) -> np.ndarray:
    if values.size % 2:
        values = np.append(values, values[-1])
    return combine(values[0::2], values[1::2])
