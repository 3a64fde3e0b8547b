"""The review waveform: a zoomable time plot, an overview of the whole take, and the selection.

Mouse: drag with the left button to select a time span (also over markers: drag a marker's or the
selection's edges to resize it), click to place the playback start,
wheel to zoom in time around the pointer, Ctrl+wheel to zoom the amplitude (or frequency),
Shift+drag or middle-drag to scroll; drag or resize the highlighted range in the overview to move
through a long recording.

Only what is visible is drawn: :class:`WaveformLevels` hands over the raw samples when zoomed
in and min/max pairs (peak downsampling) otherwise, clipped to the view, so an hour-long take
scrolls as smoothly as a breath cycle.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal

from stethoscan.audio.waveform_levels import WaveformLevels
from stethoscan.gui.studio.review_plot_style import (
    CURSOR,
    OVERVIEW,
    SELECTION,
    SELECTION_EDGE,
    WAVEFORM,
    edges_only,
    style_plot,
)

MIN_SPAN_SAMPLES = 32
QUIET_PEAK = 10 ** (-50 / 20)  # the amplitude axis spans at least +-50 dBFS: a muted input's
# noise (-90 dBFS) shows as the flat line it is, not blown up to fill the plot


class TimeViewBox(pg.ViewBox):
    """A view box where a left drag selects time instead of panning."""

    selection_dragged = Signal(float, float, bool)  # start s, end s, drag finished
    time_clicked = Signal(float)  # s

    def __init__(self) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(x=True, y=False)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() != Qt.MouseButton.LeftButton or shift:
            if shift:  # Shift+left drag pans like the middle button
                ev.accept()
                delta = self.mapSceneToView(ev.lastScenePos()).x() - self.mapSceneToView(ev.scenePos()).x()
                self.translateBy(x=delta)
                return
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self.selection_dragged.emit(min(a, b), max(a, b), bool(ev.isFinish()))

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:  # amplitude or frequency zoom
            ev.accept()
            low, high = self.viewRange()[1]
            factor = 0.8 ** (ev.delta() / 120.0)
            self.setYRange(low * factor, high * factor, padding=0)  # about 0: symmetric / from 0 Hz
            return
        super().wheelEvent(ev, axis)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.time_clicked.emit(self.mapSceneToView(ev.scenePos()).x())
        else:
            super().mouseClickEvent(ev)


def selection_region() -> pg.LinearRegionItem:
    """The translucent blue selection span (movable, resizable)."""
    region = pg.LinearRegionItem(brush=pg.mkBrush(SELECTION), pen=pg.mkPen(SELECTION_EDGE, width=1.2),
                                 hoverBrush=pg.mkBrush(63, 167, 214, 80), swapMode="sort")
    region.setZValue(5)
    region.hide()
    return edges_only(region)


def cursor_line() -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(CURSOR, width=1.5))
    line.setZValue(20)
    line.hide()
    return line


class ReviewWaveform(QObject):
    """The waveform plot and the overview plot, placed in a ``pg.GraphicsLayout``."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, overview_row: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view_box = TimeViewBox()
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=0, viewBox=self.view_box)
        style_plot(self.plot, "Amplitude (full scale)", bottom_label=None)
        self.curve = pg.PlotDataItem(pen=pg.mkPen(WAVEFORM, width=1), antialias=False)
        self.plot.addItem(self.curve)
        self.overview: pg.PlotItem = layout.addPlot(row=overview_row, col=0,
                                                    viewBox=pg.ViewBox(enableMenu=False))
        style_plot(self.overview, "Whole take", bottom_label=None)
        self.overview.setMouseEnabled(x=False, y=False)
        self.overview.getAxis("left").setTicks([[]])
        self.overview.showGrid(x=True, y=False, alpha=0.1)
        self.overview_curve = pg.PlotDataItem(pen=pg.mkPen(OVERVIEW, width=1))
        self.overview.addItem(self.overview_curve)
        self.visible_range = pg.LinearRegionItem(brush=pg.mkBrush(255, 255, 255, 28),
                                                 pen=pg.mkPen("#c8ced6", width=1))
        self.visible_range.setZValue(10)
        self.overview.addItem(self.visible_range)
        self.overview_cursor = cursor_line()
        self.overview.addItem(self.overview_cursor)
        self.levels: WaveformLevels | None = None
        self.plot.sigXRangeChanged.connect(self._on_view_changed)
        self.plot.vb.sigResized.connect(self._redraw)
        self.visible_range.sigRegionChanged.connect(self._on_overview_dragged)

    @property
    def duration_s(self) -> float:
        return self.levels.duration_s if self.levels is not None else 0.0

    def set_levels(self, levels: WaveformLevels | None) -> None:
        """Show a recording (its :class:`WaveformLevels`), zoomed out to the whole take."""
        self.levels = levels
        if levels is None or levels.samples.size == 0:
            self.curve.setData([], [])
            self.overview_curve.setData([], [])
            return
        duration = levels.duration_s
        peak = max(levels.peak, QUIET_PEAK) * 1.05
        # The main plot scales to the typical level (isolated clicks may leave it; Ctrl+wheel
        # zooms the amplitude); the overview always shows the true peak.
        typical = min(max(1.5 * levels.typical_peak, QUIET_PEAK), peak)
        min_span = MIN_SPAN_SAMPLES / levels.rate_hz
        for plot in (self.plot, self.overview):
            plot.setLimits(xMin=0.0, xMax=duration, minXRange=min_span)
        self.plot.setYRange(-typical, typical, padding=0)
        self.overview.setYRange(-peak, peak, padding=0)
        self.overview.setXRange(0.0, duration, padding=0)
        self.overview_curve.setData(*levels.overview_curve())
        self.visible_range.setBounds((0.0, duration))
        self.set_time_range(0.0, duration)

    def time_range(self) -> tuple[float, float]:
        a, b = self.plot.viewRange()[0]
        return float(a), float(b)

    def set_time_range(self, start_s: float, end_s: float) -> None:
        self.plot.setXRange(start_s, end_s, padding=0)
        self._redraw()

    def _on_view_changed(self) -> None:
        a, b = self.time_range()
        self.visible_range.blockSignals(True)
        self.visible_range.setRegion((a, b))
        self.visible_range.blockSignals(False)
        self._redraw()

    def _on_overview_dragged(self) -> None:
        a, b = self.visible_range.getRegion()
        if b > a:
            self.plot.setXRange(a, b, padding=0)

    def _redraw(self) -> None:
        if self.levels is None:
            return
        a, b = self.time_range()
        width = int(self.plot.vb.width()) or 800
        x, y = self.levels.visible_curve(a, b, width)
        self.curve.setData(np.asarray(x, dtype=np.float64), y)
