"""Levels in dBFS: RMS and peak per block, a peak-hold meter with a latched clip indicator.

Conventions: samples are floats with full scale 1.0; ``dBFS = 20 log10(value)`` with no sine
correction (a full-scale sine reads 0 dBFS peak and -3.01 dBFS RMS). Silence reads
:data:`FLOOR_DBFS` instead of minus infinity.

The live view uses :class:`LevelMeter`::

    meter = LevelMeter(rate_hz=48000)
    reading = meter.update(block)        # block: float32 (frames,) or (frames, channels)
    reading.rms_dbfs, reading.peak_dbfs, reading.peak_hold_dbfs, reading.clipped
    meter.reset_clip()                   # the user clicked the clip indicator
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR_DBFS = -120.0
CLIP_LEVEL = 0.999  # |sample| at or above this is at full scale (-0.009 dBFS)


def amplitude_to_dbfs(value: float) -> float:
    """A linear amplitude (full scale 1.0) in dBFS, never below :data:`FLOOR_DBFS`."""
    if not np.isfinite(value) or value <= 10.0 ** (FLOOR_DBFS / 20.0):
        return FLOOR_DBFS
    return float(20.0 * np.log10(value))


def power_to_dbfs(power: float) -> float:
    """A mean-square power (full scale 1.0) in dBFS, never below :data:`FLOOR_DBFS`."""
    if not np.isfinite(power) or power <= 10.0 ** (FLOOR_DBFS / 10.0):
        return FLOOR_DBFS
    return float(10.0 * np.log10(power))


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level of all samples (all channels together) in dBFS."""
    if samples.size == 0:
        return FLOOR_DBFS
    x = samples.astype(np.float64, copy=False).ravel()
    return power_to_dbfs(float(np.dot(x, x) / x.size))


def peak_dbfs(samples: np.ndarray) -> float:
    """Absolute peak of all samples in dBFS."""
    if samples.size == 0:
        return FLOOR_DBFS
    return amplitude_to_dbfs(float(np.max(np.abs(samples))))


def count_clipped(samples: np.ndarray, level: float = CLIP_LEVEL) -> int:
    """Number of samples whose magnitude is at or above ``level`` (default: full scale)."""
    return int(np.count_nonzero(np.abs(samples) >= level))


@dataclass(frozen=True)
class LevelReading:
    """One meter update. Levels in dBFS; ``clipped`` stays True until :meth:`LevelMeter.reset_clip`."""

    rms_dbfs: float
    peak_dbfs: float
    peak_hold_dbfs: float
    clipped: bool
    clipped_samples: int  # since start or the last reset_clip()


class LevelMeter:
    """Block-wise RMS and peak with peak hold (hold, then fall) and a latched clip flag.

    Parameters
    ----------
    rate_hz
        Sample rate of the blocks, Hz.
    hold_s
        How long the peak-hold marker stays before it falls, s.
    fall_db_per_s
        How fast it falls after the hold time, dB per s.
    """

    def __init__(self, rate_hz: int, hold_s: float = 1.5, fall_db_per_s: float = 20.0) -> None:
        self.rate_hz = int(rate_hz)
        self.hold_s = float(hold_s)
        self.fall_db_per_s = float(fall_db_per_s)
        self.reset()

    def reset(self) -> None:
        """Forget the peak hold and the clip latch (a new recording starts)."""
        self._hold_dbfs = FLOOR_DBFS
        self._hold_age_s = 0.0
        self._clipped_samples = 0

    def reset_clip(self) -> None:
        """Clear the latched clip indicator (the user acknowledged it)."""
        self._clipped_samples = 0

    def update(self, block: np.ndarray) -> LevelReading:
        """Meter one block of samples, float with full scale 1.0."""
        frames = block.shape[0] if block.ndim else 0
        peak = peak_dbfs(block)
        self._advance_hold(peak, frames / self.rate_hz if self.rate_hz else 0.0)
        self._clipped_samples += count_clipped(block)
        return LevelReading(
            rms_dbfs=rms_dbfs(block),
            peak_dbfs=peak,
            peak_hold_dbfs=self._hold_dbfs,
            clipped=self._clipped_samples > 0,
            clipped_samples=self._clipped_samples,
        )

    def _advance_hold(self, peak: float, block_s: float) -> None:
        if peak >= self._hold_dbfs:
            self._hold_dbfs, self._hold_age_s = peak, 0.0
            return
        self._hold_age_s += block_s
        overdue_s = min(self._hold_age_s - self.hold_s, block_s)
        if overdue_s > 0:
            self._hold_dbfs = max(self._hold_dbfs - self.fall_db_per_s * overdue_s, peak)
