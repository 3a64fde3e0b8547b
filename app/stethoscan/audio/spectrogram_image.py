"""Spectrogram images for the review view (numpy only; no Qt).

``compute_spectrogram(samples, rate_hz, scale)`` returns levels in dB re full scale (a
full-scale sine reads about 0 dB) as a (rows, columns) float32 image, row 0 the lowest
frequency, with the rectangle it covers in (s, Hz) or (s, mel) so a plot can place it. Long
recordings are cut into chunks (progress and cancel between chunks) and the hop grows so the
image never has more than ``MAX_COLUMNS`` columns.

The mel scale is the HTK one (``mel = 2595 log10(1 + f / 700)``), with the same triangular
filters as librosa's ``htk=True`` bank, so the frequency axis can map Hz to rows exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCALES = ("linear", "mel")
MAX_COLUMNS = 6000
FLOOR_DB = -160.0
_CHUNK_COLUMNS = 1024


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray | float:
    """HTK mel value of a frequency in Hz."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=float) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray | float:
    """Frequency in Hz of an HTK mel value."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=float) / 2595.0) - 1.0)


@dataclass
class SpectrogramImage:
    """Levels (dB re full scale) and the rectangle they cover.

    ``db`` has shape (rows, columns); column ``j`` is centred at ``j * hop_s`` s. The image spans
    ``x0_s .. x0_s + width_s`` in time and ``y0 .. y0 + height`` in Hz (linear) or mel (mel).
    """

    db: np.ndarray
    scale: str
    rate_hz: int
    n_fft: int
    hop_s: float
    x0_s: float
    width_s: float
    y0: float
    height: float

    @property
    def nyquist_hz(self) -> float:
        return self.rate_hz / 2.0

    def y_of_hz(self, hz: np.ndarray | float) -> np.ndarray | float:
        """Plot y coordinate of a frequency (Hz on a linear image, mel on a mel image)."""
        return hz_to_mel(hz) if self.scale == "mel" else np.asarray(hz, dtype=float)

    def hz_of_y(self, y: np.ndarray | float) -> np.ndarray | float:
        return mel_to_hz(y) if self.scale == "mel" else np.asarray(y, dtype=float)


def fft_size(rate_hz: float) -> int:
    """A ~25 ms analysis window rounded to a power of two (at least 64 samples)."""
    return max(64, 2 ** int(round(math.log2(0.025 * rate_hz))))


def mel_band_count(n_fft: int) -> int:
    """Mel bands that the FFT resolution can fill (32-128)."""
    return int(min(128, max(32, (n_fft // 2 + 1) // 2)))


def compute_spectrogram(samples: np.ndarray, rate_hz: int, scale: str = "linear",
                        max_columns: int = MAX_COLUMNS, task=None) -> SpectrogramImage:
    """The spectrogram of mono ``samples`` (float, full scale 1.0) as an image in dB.

    ``task`` (``core.task`` protocol, optional) gets progress and may cancel between chunks.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}")
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    n_fft = fft_size(rate_hz)
    hop = max(n_fft // 8, int(math.ceil(x.size / max_columns)))
    columns = 1 + x.size // hop
    padded = np.pad(x, (n_fft // 2, n_fft // 2 + hop))
    window = np.hanning(n_fft).astype(np.float32)
    norm = (window.sum() / 2.0) ** 2  # a full-scale sine peaks at 0 dB
    bank = _mel_bank(rate_hz, n_fft) if scale == "mel" else None
    rows = bank.shape[0] if bank is not None else n_fft // 2 + 1
    db = np.empty((rows, columns), dtype=np.float32)
    for first in range(0, columns, _CHUNK_COLUMNS):
        if task is not None:
            task.check_cancelled()
            task.progress(first / columns, "Computing the spectrogram")
        last = min(first + _CHUNK_COLUMNS, columns)
        power = _power_columns(padded, first, last, hop, n_fft, window) / norm
        if bank is not None:
            power = bank @ power
        db[:, first:last] = 10.0 * np.log10(np.maximum(power, 10.0 ** (FLOOR_DB / 10.0)))
    return _placed(db, scale, rate_hz, n_fft, hop)


def _power_columns(padded: np.ndarray, first: int, last: int, hop: int, n_fft: int,
                   window: np.ndarray) -> np.ndarray:
    """|STFT|^2 of columns ``first..last-1``, shape (n_fft // 2 + 1, last - first)."""
    part = padded[first * hop : (last - 1) * hop + n_fft]
    frames = np.lib.stride_tricks.sliding_window_view(part, n_fft)[::hop] * window
    spectrum = np.fft.rfft(frames, axis=1)
    return (spectrum.real**2 + spectrum.imag**2).T


def mel_filter_bank(rate_hz: float, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular HTK mel filters (peak 1), shape (n_mels, n_fft // 2 + 1).

    The same filters as ``librosa.filters.mel(htk=True, norm=None)`` (checked in the tests),
    written out because librosa's first call costs seconds of just-in-time compilation.
    """
    edges_hz = mel_to_hz(np.linspace(0.0, float(hz_to_mel(rate_hz / 2.0)), n_mels + 2))
    bins_hz = np.linspace(0.0, rate_hz / 2.0, n_fft // 2 + 1)
    lower, centre, upper = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]
    rising = (bins_hz - lower) / (centre - lower)
    falling = (upper - bins_hz) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def _mel_bank(rate_hz: int, n_fft: int) -> np.ndarray:
    return mel_filter_bank(rate_hz, n_fft, mel_band_count(n_fft))


def _placed(db: np.ndarray, scale: str, rate_hz: int, n_fft: int, hop: int) -> SpectrogramImage:
    hop_s = hop / rate_hz
    rows, columns = db.shape
    if scale == "mel":
        # Filter i is centred at (i + 1) / (rows + 1) of the mel range: place row centres there.
        step = float(hz_to_mel(rate_hz / 2.0)) / (rows + 1)
        y0, height = 0.5 * step, rows * step
    else:
        df = rate_hz / n_fft
        y0, height = -0.5 * df, rows * df
    return SpectrogramImage(db, scale, int(rate_hz), n_fft, hop_s, -0.5 * hop_s, columns * hop_s,
                            y0, height)
