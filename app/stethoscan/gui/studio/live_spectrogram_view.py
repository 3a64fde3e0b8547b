"""The scrolling mel spectrogram while recording: one new column every 10 ms (pyqtgraph).

The columns come from :class:`stethoscan.audio.live_spectrogram.LiveSpectrogram`, which computes
only the new ones; this view copies its ring buffer into a fixed-size image (newest column on the
right, at time 0) and hands it to a row-major :class:`pyqtgraph.ImageItem` with fixed levels, so
colours mean the same level all through the take. Rows are mel bands; the frequency axis is
labelled in Hz at round frequencies.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from stethoscan.audio.level_metering import FLOOR_DBFS
from stethoscan.audio.live_spectrogram import LiveSpectrogram
from stethoscan.gui.studio.live_waveform import PLOT_BACKGROUND, WINDOW_S, style_live_plot

N_MELS = 64
TOP_DB = 0.0  # dB re full scale shown brightest (a full-scale sine in one band)
COLOUR_MAP = "inferno"
_ROUND_HZ = (50, 100, 200, 500, 1000, 2000, 4000, 8000, 16000, 32000)


def hz_label(hz: float) -> str:
    return f"{hz / 1000:g} k" if hz >= 1000 else f"{hz:g}"


def mel_row_ticks(frequencies_hz: np.ndarray, min_gap_rows: float = 6.0) -> list[tuple[float, str]]:
    """Axis ticks (row position, "label in Hz") at round frequencies on a mel-row image.

    Going down from the top, a tick closer than ``min_gap_rows`` to the last one is left out,
    so the low-frequency labels never overlap.
    """
    rows = np.arange(len(frequencies_hz), dtype=float) + 0.5  # a row's centre
    low, high = float(frequencies_hz[0]), float(frequencies_hz[-1])
    ticks: list[tuple[float, str]] = []
    for hz in sorted((f for f in _ROUND_HZ if low <= f <= high), reverse=True):
        row = float(np.interp(hz, frequencies_hz, rows))
        if not ticks or ticks[-1][0] - row >= min_gap_rows:
            ticks.append((row, hz_label(hz)))
    return ticks[::-1]


def new_live_spectrogram(rate_hz: int, window_s: float = WINDOW_S) -> LiveSpectrogram:
    """The backend's incremental mel spectrogram for a take (imports librosa the first time)."""
    return LiveSpectrogram(rate_hz, window_s=window_s, n_mels=N_MELS)


class LiveSpectrogramView(pg.PlotWidget):
    """Mel spectrogram of the last :data:`WINDOW_S` seconds; ``column_count`` counts all columns."""

    def __init__(self, parent: QWidget | None = None, window_s: float = WINDOW_S,
                 dynamic_range_db: float = 80.0) -> None:
        super().__init__(parent, background=PLOT_BACKGROUND)
        self.setObjectName("liveSpectrogram")
        self.window_s = float(window_s)
        self.levels = (TOP_DB - float(dynamic_range_db), TOP_DB)
        self.column_count = 0
        self._spec: LiveSpectrogram | None = None
        self._canvas = np.zeros((0, 0), dtype=np.float32)
        self._dirty = False
        plot = self.getPlotItem()
        style_live_plot(plot, "Frequency (Hz)", show_time=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(COLOUR_MAP))
        plot.addItem(self.image)
        plot.setXRange(-self.window_s, 0.0, padding=0.0)
        plot.setYRange(0.0, N_MELS, padding=0.0)
        plot.getAxis("left").setTicks([[]])  # Hz labels come with the first spectrogram
        self.setMinimumHeight(140)
        self.setToolTip("Mel spectrogram of the last seconds: brighter = louder "
                        f"({self.levels[0]:g} to {self.levels[1]:g} dB re full scale).")

    def start(self, spectrogram: LiveSpectrogram) -> None:
        """A new take: show ``spectrogram``'s columns (built before the take, see module text)."""
        self._spec = spectrogram
        self.column_count = 0
        columns = max(int(round(self.window_s / spectrogram.column_s)), 1)
        self._canvas = np.full((spectrogram.n_rows, columns), FLOOR_DBFS, dtype=np.float32)
        self.image.setImage(self._canvas, autoLevels=False, levels=self.levels)
        self.image.setRect(QRectF(-self.window_s, 0.0, self.window_s, spectrogram.n_rows))
        plot = self.getPlotItem()
        plot.setYRange(0.0, spectrogram.n_rows, padding=0.0)
        plot.getAxis("left").setTicks([mel_row_ticks(np.asarray(spectrogram.frequencies_hz))])
        self._dirty = False

    def push(self, block: np.ndarray) -> None:
        if self._spec is not None and block.size:
            self.column_count += self._spec.push(block).shape[0]
            self._dirty = True

    def refresh(self) -> None:
        """Redraw if new columns arrived since the last refresh (called by the GUI timer)."""
        if not self._dirty or self._spec is None:
            return
        recent = self._spec.image()  # (columns, rows), oldest first
        shown = min(recent.shape[0], self._canvas.shape[1])
        self._canvas[:, : self._canvas.shape[1] - shown] = FLOOR_DBFS
        if shown:
            self._canvas[:, -shown:] = recent[-shown:].T
        self.image.setImage(self._canvas, autoLevels=False, levels=self.levels)
        self._dirty = False
