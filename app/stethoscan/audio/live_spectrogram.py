"""Live views of a recording: scrolling spectrogram and waveform.

Both take the blocks of :meth:`Recorder.read_live_blocks` as they come and keep the last
``window_s`` seconds in a ring buffer, so the GUI timer only pushes blocks and reads arrays.
The work per block is a few small FFTs and one matrix product (numpy only); the mel filterbank
is computed once at construction (librosa, imported then: build these before the take starts).

Public API::

    spec = LiveSpectrogram(rate_hz=48000, window_s=10.0)   # n_mels=64, hop 10 ms, 21 ms window
    new_columns = spec.push(block)   # (n_new, n_mels) float32, dB re full scale
    image = spec.image()             # (columns, n_mels) oldest first, for a row-major ImageItem
    spec.mel_frequencies_hz          # centre frequency of each mel row, Hz
    wave = LiveWaveform(rate_hz=48000, window_s=10.0, bucket_s=0.01)
    wave.push(block)
    times_s, lows, highs = wave.envelope()   # min/max per 10 ms bucket, times relative to now

The review view of a whole file uses :mod:`stethoscan.audio.spectrogram_image` and
:mod:`stethoscan.audio.waveform_levels` instead (progress, cancel, zoom pyramid).

Levels are dB re full scale: a full-scale sine in the middle of a mel band reads about 0 dB, so
a fixed colour range (e.g. -80..0 dB) does not jump around during the take.
"""

from __future__ import annotations

import numpy as np

from stethoscan.audio.level_metering import FLOOR_DBFS


class _Ring:
    """The last ``capacity`` rows of a growing 2-D array."""

    def __init__(self, capacity: int, width: int, fill: float) -> None:
        self._data = np.full((capacity, width), fill, dtype=np.float32)
        self._next = 0
        self.count = 0

    def extend(self, rows: np.ndarray) -> None:
        capacity = self._data.shape[0]
        rows = rows[-capacity:]
        first = min(rows.shape[0], capacity - self._next)
        self._data[self._next : self._next + first] = rows[:first]
        self._data[: rows.shape[0] - first] = rows[first:]
        self._next = (self._next + rows.shape[0]) % capacity
        self.count = min(self.count + rows.shape[0], capacity)

    def ordered(self) -> np.ndarray:
        """All stored rows, oldest first (a copy)."""
        if self.count < self._data.shape[0]:
            return self._data[: self.count].copy()
        return np.concatenate([self._data[self._next :], self._data[: self._next]])


def _mono(block: np.ndarray) -> np.ndarray:
    if block.ndim == 1:
        return block.astype(np.float32, copy=False)
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


class LiveSpectrogram:
    """Incremental spectrogram: one column per hop (10 ms), computed only for new samples.

    Parameters
    ----------
    rate_hz
        Sample rate, Hz.
    window_s
        How much history :meth:`image` returns, s.
    n_mels, fmin_hz, fmax_hz
        Mel bands and their range, Hz (``fmax_hz`` defaults to half the rate).
    frame_s, hop_s
        FFT window and hop, s.
    kind
        "mel" (rows are mel bands) or "linear" (rows are the FFT bins).
    """

    def __init__(
        self,
        rate_hz: int,
        window_s: float = 10.0,
        n_mels: int = 64,
        fmin_hz: float = 20.0,
        fmax_hz: float | None = None,
        frame_s: float = 0.021,
        hop_s: float = 0.010,
        kind: str = "mel",
    ) -> None:
        import librosa
        from scipy.signal import get_window

        self.rate_hz = int(rate_hz)
        self.hop = max(int(round(hop_s * rate_hz)), 1)
        self.n_fft = int(2 ** np.ceil(np.log2(max(frame_s * rate_hz, 16))))
        fmax = min(fmax_hz or rate_hz / 2.0, rate_hz / 2.0)
        self._window = get_window("hann", self.n_fft).astype(np.float32)  # as librosa's
        # Power scaled so a full-scale sine at a bin centre reads 1.0 (0 dB).
        self._scale = np.float32((2.0 / self._window.sum()) ** 2)
        self._filters_t: np.ndarray | None = None
        if kind == "mel":
            filters = librosa.filters.mel(sr=rate_hz, n_fft=self.n_fft, n_mels=n_mels,
                                          fmin=fmin_hz, fmax=fmax, norm=None, htk=False)
            self._filters_t = np.ascontiguousarray(filters.T, dtype=np.float32)  # (bins, mels)
            self.frequencies_hz = librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin_hz,
                                                          fmax=fmax)[1:-1]
        elif kind == "linear":
            self.frequencies_hz = np.fft.rfftfreq(self.n_fft, 1.0 / rate_hz)
        else:
            raise ValueError(f"kind must be 'mel' or 'linear', not {kind!r}")
        self.kind = kind
        self._pending = np.zeros(0, dtype=np.float32)  # column i covers [i*hop, i*hop + n_fft)
        columns = max(int(round(window_s / (self.hop / rate_hz))), 1)
        self._ring = _Ring(columns, self.n_rows, FLOOR_DBFS)

    @property
    def n_rows(self) -> int:
        """Frequency rows per column (mel bands or FFT bins)."""
        return len(self.frequencies_hz)

    @property
    def n_mels(self) -> int:
        return self.n_rows

    @property
    def mel_frequencies_hz(self) -> np.ndarray:
        return self.frequencies_hz

    @property
    def column_s(self) -> float:
        """Time between columns, s."""
        return self.hop / self.rate_hz

    def push(self, block: np.ndarray) -> np.ndarray:
        """Add samples; return the new columns (n_new, n_rows) in dB re full scale."""
        samples = np.concatenate([self._pending, _mono(block)])
        count = (samples.shape[0] - self.n_fft) // self.hop + 1 if samples.shape[0] >= self.n_fft else 0
        if count <= 0:
            self._pending = samples
            return np.zeros((0, self.n_rows), dtype=np.float32)
        frames = np.lib.stride_tricks.as_strided(
            samples, shape=(count, self.n_fft), strides=(samples.strides[0] * self.hop, samples.strides[0])
        )
        spectrum = np.fft.rfft(frames * self._window, axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32) * self._scale
        if self._filters_t is not None:
            power = power @ self._filters_t
        columns = 10.0 * np.log10(np.maximum(power, 10.0 ** (FLOOR_DBFS / 10.0)))
        self._pending = samples[count * self.hop :].copy()
        self._ring.extend(columns)
        return columns.astype(np.float32, copy=False)

    def image(self) -> np.ndarray:
        """The last ``window_s`` of columns, oldest first: (columns, n_rows), dB re full scale."""
        return self._ring.ordered()


class LiveWaveform:
    """Scrolling min/max envelope of the waveform: one (low, high) pair per bucket."""

    def __init__(self, rate_hz: int, window_s: float = 10.0, bucket_s: float = 0.01) -> None:
        self.rate_hz = int(rate_hz)
        self.bucket = max(int(round(bucket_s * rate_hz)), 1)
        self._pending = np.zeros(0, dtype=np.float32)
        self._ring = _Ring(max(int(round(window_s / bucket_s)), 1), 2, 0.0)

    def push(self, block: np.ndarray) -> None:
        samples = np.concatenate([self._pending, _mono(block)])
        count = samples.shape[0] // self.bucket
        if count:
            buckets = samples[: count * self.bucket].reshape(count, self.bucket)
            self._ring.extend(np.stack([buckets.min(axis=1), buckets.max(axis=1)], axis=1))
        self._pending = samples[count * self.bucket :]

    def envelope(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times in s relative to the newest bucket, so <= 0; lows; highs), oldest first."""
        pairs = self._ring.ordered()
        step = self.bucket / self.rate_hz
        times = (np.arange(pairs.shape[0]) - (pairs.shape[0] - 1)) * step
        return times, pairs[:, 0], pairs[:, 1]

