"""An audio clip in memory: float32 samples in [-1, 1], shape (frames, channels), rate in Hz."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class AudioClip:
    samples: np.ndarray  # float32, shape (frames, channels)
    rate_hz: int
    source: str = ""  # file path or device description (never a patient identifier)
    format: str = ""  # e.g. "WAV", "FLAC"
    subtype: str = ""  # e.g. "PCM_16", "FLOAT"
    warnings: list[str] = field(default_factory=list)  # what the reader noticed (e.g. a cut-short file)

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1]) if self.samples.ndim == 2 else 1

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.rate_hz) if self.rate_hz else 0.0

    def mono(self) -> np.ndarray:
        """Mean over channels, float32, shape (frames,)."""
        if self.samples.ndim == 1:
            return self.samples.astype(np.float32, copy=False)
        return self.samples.mean(axis=1, dtype=np.float32)
