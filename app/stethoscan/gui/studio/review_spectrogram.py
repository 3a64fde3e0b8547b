"""The review spectrogram: linear or mel frequency scale, dynamic range in dB, colour map.

The image comes from :func:`spectrogram_image.compute_spectrogram` (run in a worker for long
files); this module only places it. Its frequency axis is labelled in Hz in both scales (on the
mel scale the ticks sit at round frequencies), its time axis in s, and a colour bar says what the
colours mean (dB re full scale). The pitch contour of a voice analysis is drawn over it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF

from stethoscan.audio.spectrogram_image import SpectrogramImage, hz_to_mel, mel_to_hz
from stethoscan.gui.studio.review_plot_style import PITCH, TEXT, style_plot
from stethoscan.gui.studio.review_waveform import TimeViewBox

COLOUR_MAPS = ("inferno", "viridis", "magma", "CET-L1")  # CET-L1: perceptual grey
COLOUR_MAP_NAMES = {"inferno": "Inferno", "viridis": "Viridis", "magma": "Magma", "CET-L1": "Grey"}
QUIET_TOP_DB = -50.0  # top of the colour scale at least this (dB re full scale)
_NICE_HZ = (50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 8000, 10000, 15000, 20000, 30000, 40000)


def nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 x 10^n step at least ``raw``."""
    if not np.isfinite(raw) or raw <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


class FrequencyAxis(pg.AxisItem):
    """A frequency axis in Hz; on a mel image the values are mel but the labels stay in Hz."""

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.scale_name = "linear"

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph API)
        if self.scale_name != "mel":
            step = nice_step((maxVal - minVal) / max(size / 45.0, 2.0))  # a label every ~45 px
            first = np.ceil(max(minVal, 0.0) / step) * step
            return [(step, [float(v) for v in np.arange(first, maxVal + 1e-9, step)])]
        low_hz, high_hz = float(mel_to_hz(max(minVal, 0.0))), float(mel_to_hz(max(maxVal, 0.0)))
        major = [hz_to_mel(f) for f in _NICE_HZ if low_hz <= f <= high_hz]
        return [(0, [float(m) for m in major])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if self.scale_name != "mel":
            return [f"{v:.0f}" for v in values]
        return [f"{float(mel_to_hz(v)):.0f}" for v in values]


class ReviewSpectrogram(QObject):
    """The spectrogram plot (time-linked to the waveform) and its colour bar."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.freq_axis = FrequencyAxis("left")
        self.view_box = TimeViewBox()
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=0, viewBox=self.view_box,
                                                axisItems={"left": self.freq_axis})
        style_plot(self.plot, "Frequency (Hz)")
        self.image_item = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.plot.addItem(self.image_item)
        self.colour_map_name = COLOUR_MAPS[0]
        self.colour_bar = pg.ColorBarItem(values=(-80, 0), colorMap=pg.colormap.get(self.colour_map_name),
                                          label="Level (dB re full scale)", interactive=False,
                                          width=14)
        self.colour_bar.setImageItem(self.image_item)
        self.colour_bar.getAxis("right").setTextPen(pg.mkPen(TEXT))
        layout.addItem(self.colour_bar, row=row, col=1)
        self.pitch_curve = pg.PlotDataItem(pen=pg.mkPen(PITCH, width=2), connect="finite",
                                           name="F0 contour (Hz)")
        self.pitch_curve.setZValue(15)
        self.plot.addItem(self.pitch_curve)
        self.legend = pg.LegendItem(offset=(-10, 8), labelTextColor=TEXT, labelTextSize="8.5pt",
                                    brush=pg.mkBrush(15, 18, 21, 200), pen=pg.mkPen("#3a424c"))
        self.legend.setParentItem(self.plot.vb)
        self.legend.hide()
        self.spectrogram: SpectrogramImage | None = None
        self.dynamic_range_db = 80.0
        self.max_frequency_hz: float | None = None  # None: up to the Nyquist frequency
        self._pitch_hz: tuple[np.ndarray, np.ndarray] | None = None

    def set_spectrogram(self, spec: SpectrogramImage | None) -> None:
        self.spectrogram = spec
        if spec is None:
            self.image_item.clear()
            return
        self.freq_axis.scale_name = spec.scale
        self.image_item.setImage(spec.db, autoLevels=False)
        self.image_item.setRect(QRectF(spec.x0_s, spec.y0, spec.width_s, spec.height))
        self._apply_levels()
        self._apply_frequency_range()
        self._draw_pitch()

    def set_dynamic_range(self, range_db: float) -> None:
        self.dynamic_range_db = float(range_db)
        self._apply_levels()

    def set_colour_map(self, name: str) -> None:
        self.colour_map_name = name
        self.colour_bar.setColorMap(pg.colormap.get(name))

    def set_max_frequency(self, hz: float | None) -> None:
        self.max_frequency_hz = hz
        self._apply_frequency_range()

    def levels(self) -> tuple[float, float]:
        low, high = self.colour_bar.levels()
        return float(low), float(high)

    def frequency_range_hz(self) -> tuple[float, float]:
        """The visible frequency range in Hz (whatever the scale)."""
        low, high = self.plot.viewRange()[1]
        if self.spectrogram is None:
            return float(low), float(high)
        return float(self.spectrogram.hz_of_y(max(low, 0.0))), float(self.spectrogram.hz_of_y(high))

    def set_pitch(self, times_s: np.ndarray | None, pitch_hz: np.ndarray | None) -> None:
        """Draw the F0 contour (Hz; NaN where unvoiced) over the image, or remove it (None)."""
        if times_s is None or pitch_hz is None or len(times_s) == 0:
            self._pitch_hz = None
        else:
            self._pitch_hz = (np.asarray(times_s, float), np.asarray(pitch_hz, float))
        self._draw_pitch()

    def _draw_pitch(self) -> None:
        self.legend.clear()
        if self._pitch_hz is None or self.spectrogram is None:
            self.pitch_curve.setData([], [])
            self.legend.hide()
            return
        times, hz = self._pitch_hz
        y = np.where(np.isfinite(hz) & (hz > 0), self.spectrogram.y_of_hz(np.nan_to_num(hz)), np.nan)
        self.pitch_curve.setData(times, y)
        self.legend.addItem(self.pitch_curve, "F0 contour (Hz)")
        self.legend.show()

    def _apply_levels(self) -> None:
        if self.spectrogram is None:
            return
        # The scale follows the take's loudest bin, but never starts below QUIET_TOP_DB: the
        # converter noise of a muted input (-90 dBFS) is then dark, not painted as loud sound.
        top = max(float(np.ceil(np.max(self.spectrogram.db))), QUIET_TOP_DB)
        self.colour_bar.setLevels((top - self.dynamic_range_db, top))

    def _apply_frequency_range(self) -> None:
        spec = self.spectrogram
        if spec is None:
            return
        top_hz = spec.nyquist_hz if self.max_frequency_hz is None else min(self.max_frequency_hz, spec.nyquist_hz)
        top = float(spec.y_of_hz(top_hz))
        self.plot.setLimits(yMin=0.0, yMax=float(spec.y_of_hz(spec.nyquist_hz)))
        self.plot.setYRange(0.0, top, padding=0)
