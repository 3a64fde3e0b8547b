"""The scrolling waveform of the last few seconds while recording (pyqtgraph).

The samples are decimated by :class:`stethoscan.audio.live_spectrogram.LiveWaveform` into one
min/max pair per 10 ms bucket, so a 5 s window is 500 vertical strokes whatever the sample rate.
The amplitude axis is fixed at full scale (-1..1) so the picture says how loud the sound is.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from stethoscan.audio.live_spectrogram import LiveWaveform

WINDOW_S = 5.0
BUCKET_S = 0.01
PLOT_BACKGROUND = "#0f1215"
AXIS_COLOUR = "#8d96a0"
TEXT_COLOUR = "#c8ced6"
WAVEFORM_COLOUR = "#7cc4e8"
LEFT_AXIS_PX = 52  # the waveform and the spectrogram share it, so their time axes line up


def style_live_plot(plot: pg.PlotItem, left_label: str, show_time: bool) -> None:
    """Dark, quiet axes with units; no mouse interaction (the live plots scroll by themselves)."""
    font = QFont()
    font.setPointSizeF(8.0)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(TEXT_COLOUR))
        # Ticks point outwards, so an axis never overlaps the plot and is not redrawn with it.
        axis.setStyle(tickFont=font, tickTextOffset=3, tickLength=4)
        axis.enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(LEFT_AXIS_PX)
    plot.setLabel("left", left_label, color=TEXT_COLOUR, size="8pt")
    if show_time:
        plot.setLabel("bottom", "Time (s)", color=TEXT_COLOUR, size="8pt")
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)


class LiveWaveformView(pg.PlotWidget):
    """Min/max envelope of the last :data:`WINDOW_S` seconds, newest on the right (time 0)."""

    def __init__(self, parent: QWidget | None = None, window_s: float = WINDOW_S) -> None:
        super().__init__(parent, background=PLOT_BACKGROUND)
        self.setObjectName("liveWaveform")
        self.window_s = float(window_s)
        self._wave: LiveWaveform | None = None
        self._dirty = False
        plot = self.getPlotItem()
        style_live_plot(plot, "Amplitude", show_time=False)
        plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#3a424c")))  # zero line
        plot.setXRange(-self.window_s, 0.0, padding=0.0)
        plot.setYRange(-1.0, 1.0, padding=0.08)
        plot.getAxis("left").setTicks([[(-1.0, "−1"), (-0.5, "−½"), (0.0, "0"), (0.5, "½"),
                                        (1.0, "1")]])
        self.curve = pg.PlotDataItem(pen=pg.mkPen(WAVEFORM_COLOUR, width=1), connect="pairs",
                                     antialias=False)
        plot.addItem(self.curve)
        self.setMinimumHeight(90)

    def start(self, rate_hz: int) -> None:
        """A new take at ``rate_hz`` (Hz): clear the picture."""
        self._wave = LiveWaveform(rate_hz, window_s=self.window_s, bucket_s=BUCKET_S)
        self.curve.setData([], [])
        self._dirty = False

    def push(self, block: np.ndarray) -> None:
        if self._wave is not None and block.size:
            self._wave.push(block)
            self._dirty = True

    def refresh(self) -> None:
        """Redraw if new samples arrived since the last refresh (called by the GUI timer)."""
        if not self._dirty or self._wave is None:
            return
        times, lows, highs = self._wave.envelope()
        self.curve.setData(np.repeat(times, 2), np.column_stack([lows, highs]).ravel())
        self._dirty = False

    @property
    def point_count(self) -> int:
        """Buckets on screen (each a min/max stroke)."""
        data = self.curve.getData()[0]
        return 0 if data is None else len(data) // 2
